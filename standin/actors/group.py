"""A supergroup with the bot in it, optionally a forum: its members and its topics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..checks import bad_request, forbidden
from ..models import ServiceMessage, Topic
from .chat import SimChat

if TYPE_CHECKING:
    from ..world import World
    from .user import SimUser

__all__ = ["TOPIC_COLORS", "SimGroup", "admin_member_dict"]

TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


class SimGroup(SimChat):
    """A supergroup with the bot as administrator; with ``forum=True`` it has topics."""

    type = "supergroup"

    def __init__(
        self,
        world: World,
        chat_id: int,
        *,
        title: str,
        forum: bool = False,
        username: str | None = None,
    ) -> None:
        super().__init__(world, chat_id)
        self.title = title
        self.forum = forum
        self.username = username
        self.members: dict[int, str] = {}
        """Member statuses by user id: creator, administrator, member, left or kicked."""
        self.bot_status = "administrator"
        self._topics: dict[int, Topic] = {}
        # Message 1 of a supergroup is its creation; thread id 1 is the forum's General topic.
        self._next_message_id = 2

    def __repr__(self) -> str:
        return f"<SimGroup {self.title!r} id={self.id}>"

    # ------------------------------------------------------------ what the bot sees

    @property
    def is_forum(self) -> bool:
        return self.forum

    def chat_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "supergroup", "title": self.title}
        if self.username:
            data["username"] = self.username
        if self.forum:
            data["is_forum"] = True
        return data

    def check_bot_can_write(self) -> None:
        if self.bot_status == "kicked":
            raise forbidden("bot was kicked from the supergroup chat")
        if self.bot_status != "administrator":
            raise forbidden("bot is not a member of the supergroup chat")

    def resolve_thread(self, thread_id: int | None) -> int | None:
        if not self.forum or not thread_id or thread_id == 1:
            return None
        if thread_id not in self._topics:
            raise bad_request("message thread not found")
        return thread_id

    def is_member(self, user: SimUser) -> bool:
        return self.members.get(user.id) in ("creator", "administrator", "member")

    def member_dict(self, user_id: int) -> dict[str, Any]:
        """``ChatMember`` for getChatMember."""
        world = self._world
        if user_id == world.bot_id:
            if self.bot_status == "administrator":
                return admin_member_dict(world.bot_user_dict(), bot=True)
            return {
                "status": self.bot_status,
                "user": world.bot_user_dict(),
                **({"until_date": 0} if self.bot_status == "kicked" else {}),
            }
        user = world.user(user_id).user_dict()
        status = self.members.get(user_id, "left")
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            return admin_member_dict(user, bot=False)
        if status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": status, "user": user}

    def create_topic_message(self, name: str, icon_color: int, creator_id: int) -> Topic:
        """Record a new topic and its ``forum_topic_created`` service message."""
        mid = self.new_message_id()
        topic = Topic(thread_id=mid, name=name, icon_color=icon_color)
        self._topics[mid] = topic
        self.store(
            ServiceMessage(
                message_id=mid,
                chat_id=self.id,
                date=self._world.now(),
                from_id=creator_id,
                thread_id=mid,
                payload={"forum_topic_created": {"name": name, "icon_color": icon_color}},
            )
        )
        return topic

    def topic(self, thread_id: int) -> Topic:
        try:
            return self._topics[thread_id]
        except KeyError:
            raise bad_request("message thread not found") from None

    def remove_topic(self, thread_id: int) -> None:
        self.topic(thread_id)
        del self._topics[thread_id]
        for m in self._items.values():
            if m.thread_id == thread_id:
                m.deleted = True
        self._world.changed.notify()

    def topic_ids(self) -> set[int]:
        return set(self._topics)

    # ------------------------------------------------------------ what the test sees and does

    @property
    def topics(self) -> dict[str, int]:
        """Topic name → ``message_thread_id`` (later topics win on equal names)."""
        return {t.name: t.thread_id for t in self._topics.values()}

    async def add_member(self, user: SimUser, status: str = "member") -> None:
        """Put ``user`` in the group (``creator``, ``administrator`` or ``member``)."""
        if status not in ("creator", "administrator", "member"):
            raise ValueError(status)
        self.members[user.id] = status
        self._world.changed.notify()

    async def remove_member(self, user: SimUser, *, ban: bool = False) -> None:
        self.members[user.id] = "kicked" if ban else "left"
        self._world.changed.notify()

    async def create_topic(self, name: str, *, by: SimUser | None = None) -> int:
        """A topic a person opens (the bot is not told); returns its thread id."""
        if not self.forum:
            raise AssertionError(f"{self!r} is not a forum")
        creator = by.id if by else next(iter(self.members), self._world.bot_id)
        return self.create_topic_message(name, TOPIC_COLORS[0], creator).thread_id

    async def kick_bot(self, *, by: SimUser | None = None) -> None:
        """Remove the bot from the group: ``my_chat_member`` (administrator → kicked)."""
        world = self._world
        old = self.member_dict(world.bot_id)
        self.bot_status = "kicked"
        actor = by or next(
            (world.users[uid] for uid, s in self.members.items() if s == "creator"), None
        )
        world.queue_update(
            "my_chat_member",
            {
                "chat": self.chat_dict(),
                "from": actor.user_dict() if actor else world.bot_user_dict(),
                "date": world.now(),
                "old_chat_member": old,
                "new_chat_member": self.member_dict(world.bot_id),
            },
        )


def admin_member_dict(user: dict[str, Any], *, bot: bool) -> dict[str, Any]:
    rights = dict.fromkeys(
        (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
            "can_manage_topics",
            "can_send_welcome_messages",
        ),
        True,
    )
    return {
        "status": "administrator",
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_promote_members": not bot,
        **rights,
    }
