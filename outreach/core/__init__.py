"""The core: what every feature stands on, and which knows no feature.

The database and its shared tables (accounts, sessions, audit, app state, form versions,
reference lists), settings, roles, login, errors, the form definitions and their registry, the
sync API, the PWA shell, the path every stored record takes (`storing`) and the signals the
features plug into (`signals`).
"""
