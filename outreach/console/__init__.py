"""The staff console's foundation: accounts and roles, sessions, CSRF, API tokens, audit.

- ``roles``: the roles and the one permission table (``can(role, action)``).
- ``passwords``: Argon2id hashing and the password rules.
- ``tokens``: session ids, API tokens and CSRF tokens (random, stored hashed).
- ``accounts``: ``StaffAccounts``, the service that signs staff in and manages accounts.
- ``web_auth``: aiohttp glue for pages and the ``/api``: ``current_staff``, ``require``.
"""
