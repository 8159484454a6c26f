"""Flask-Login wiring: a session names the user and their session version, so bumping it ends sessions."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager

from recordings_service.models import User
from web.database import db

login_manager = LoginManager()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(":")
        user = db().get(User, user_id)
        if user is None or not user.active or str(user.session_version) != version:
            return None
        return user
