"""Who is at the station: login, password and first-administrator dialogs (``dialogs``), the
lock screen (``lock``), the session wiring of the main window (``session.SessionController``),
user administration (``users.UsersDialog``) and the confirmation, signature and verification
dialogs of the write path (``confirm.QtConfirmer``).

Import from the modules; like ``hmi.views``, this package imports nothing."""

__all__ = ["confirm", "dialogs", "lock", "session", "users"]
