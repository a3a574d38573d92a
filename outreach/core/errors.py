"""One error shape: JSON for the API, a French page in the app's layout for everything else."""

from __future__ import annotations

import sys

import click
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: "Requête invalide.",
    401: "Connexion requise.",
    403: "Accès refusé : votre rôle ne le permet pas.",
    404: "Page introuvable.",
    405: "Méthode non permise ici.",
    413: "Envoi trop volumineux.",
    415: "Le contenu doit être du JSON.",
    429: "Trop de tentatives. Réessayez dans une minute.",
    500: "Erreur du serveur. La fiche n'est pas perdue : réessayez plus tard.",
}


class CommandError(click.ClickException):
    """A refusal of a command: one French line on stderr, exit status 1, nothing changed."""

    def show(self, file=None) -> None:
        """Print the refusal in French."""
        click.echo(f"Erreur : {self.message}", file=file or sys.stderr)


CSRF_MESSAGE = "Jeton de sécurité manquant ou expiré : rechargez la page ou reconnectez-vous."


def wants_json() -> bool:
    """Tell whether the request is an API call (answered in JSON, never with a page)."""
    return request.path.startswith("/api/")


def api_error(status: int, message: str | None = None, **extra: object):
    """Return the API's error response: `{"error": "<French message>", ...}` with a status."""
    response = jsonify({"error": message or MESSAGES.get(status, "Erreur."), **extra})
    response.status_code = status
    return response


def _page(status: int, message: str):
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    """Answer every error in French, as JSON for the API and as a page otherwise."""

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError):
        """Refuse a state change whose CSRF token is missing or expired."""
        if wants_json():
            return api_error(400, CSRF_MESSAGE, code="csrf")
        return _page(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Answer an HTTP error in French."""
        status = error.code or 500
        # A message given on purpose (abort(404, "…")) is French already; werkzeug's are not.
        given = error.description if error.description != type(error).description else None
        message = given or MESSAGES.get(status, "Erreur.")
        answer = api_error(status, message) if wants_json() else _page(status, message)
        # What the error says in its headers stays: the methods a 405 allows (RFC 9110).
        if getattr(error, "valid_methods", None):
            answer = app.make_response(answer)
            answer.headers["Allow"] = ", ".join(error.valid_methods)
        return answer

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        """Log an unexpected failure (no personal data) and answer a French 500."""
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return http_error(InternalServerError())
