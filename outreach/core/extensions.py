"""Extension objects shared by several modules, wired in create_app."""

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
