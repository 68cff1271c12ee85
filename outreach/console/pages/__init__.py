"""The staff console's web pages: server-rendered, a little JavaScript, no build step.

Every page states the action it needs (``require``), reads and changes data only
through ``outreach.console.operations`` (which checks the role again and writes
the audit log), and speaks az, ru and en (``rendering``). ``routes.PAGES`` is the
one table of pages: path, method, handler and the action it needs.

- ``rendering``: templates, the reader's language, the layout's shared context.
- ``login``: signing in and out, the 403 page.
- ``views``: the pages themselves.
- ``routes``: the table, and ``add_console_pages(app, config)``.
"""

from outreach.console.pages.routes import PAGES, add_console_pages

__all__ = ["PAGES", "add_console_pages"]
