"""The Bot API methods the stand-in answers, one module per area.

Each module holds one :class:`~standin.methods.base.Methods` group over the world whose
``handlers()`` maps lower-case method names to handlers; :class:`~standin.server.ApiServer`
joins the tables and routes each request.

Modules: ``updates`` (getMe, getUpdates, webhooks), ``sending`` (messages, documents, photos,
chat actions, getFile), ``editing`` (edits, deletions, answerCallbackQuery), ``commands`` (the
bot's commands, description, name, menu button), ``chats`` (getChat, getChatMember, forum
topics).
"""

from .base import Methods
from .chats import ChatMethods
from .commands import CommandMethods
from .editing import EditingMethods
from .sending import SendingMethods
from .updates import UpdateMethods

__all__ = [
    "ChatMethods",
    "CommandMethods",
    "EditingMethods",
    "Methods",
    "SendingMethods",
    "UpdateMethods",
]
