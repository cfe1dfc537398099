from panther_like.db.models import BaseUser


class User(BaseUser):
    """The example's user: BaseUser's fields plus an optional e-mail address."""

    email: str | None = None
