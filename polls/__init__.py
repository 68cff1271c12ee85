"""The channel-agnostic domain: surveys, dialogue rules, answer parsing, results.

Pure: no I/O beyond reading its own packaged data, no framework imports.
"""
