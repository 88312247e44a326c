"""`manage.py seed_demo`: realistic demo sessions, written through `sessions_core` only.

Several apps with their own habits (a shop, a forum, a mobile API, an internal portal whose
sessions do not extend themselves, and a legacy CMS whose user ids look hostile), hundreds
of users, some on several devices, `d` data on many sessions, reads and writes counted, and
last activity spread over the past day so every activity window shows something. Tokens
stay in this process; nothing secret is printed or stored elsewhere.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboard.store import sessions
from sessions_core import DValue, NewSession, RedisSessions
from sessions_core.demo import Backdate, backdate_many

HOUR = 3600
DAY = 24 * HOUR
# Ids an operator must see rendered as text, never as markup, paths or format strings.
HOSTILE_IDS = (
    "<script>alert(1)</script>",
    "a/b:c?d#e%f",
    "🦄 unicorn@example.com",
    "Robert'); DROP TABLE students;--",
    "../../etc/passwd",
    "{{ 7*7 }} ${7*7} %s%n",
    '" onmouseover="alert(1)',
    "ａｄｍｉｎ",  # noqa: RUF001 -- a fullwidth lookalike of "admin", on purpose
)
FIRST = "ada bo chen dara emil fatima gus hana ivan jun kofi lena mateo nora omar priya quinn "
FIRST += "rosa sven tariq uma vera wei xenia yusuf zoe"
LAST = "adams berg costa diaz eze fischer garcia haddad ito jensen kim lopez moreau novak "
LAST += "okafor park quispe rossi silva tanaka ueda varga weber xu yilmaz zhang"
FIRST_NAMES, LAST_NAMES = FIRST.split(), LAST.split()


def ipv4(rng: random.Random) -> str:
    """An address from the documentation ranges (RFC 5737): realistic, nobody's real IP."""
    net = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{net}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    return f"2001:db8:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"


def idle_seconds(rng: random.Random, ttl: int) -> int:
    """Seconds since last activity: many users in the last hour, a long tail over the day,
    always at least ten minutes short of the ttl so the demo does not expire at once."""
    roll = rng.random()
    if roll < 0.08:
        idle = rng.randint(0, 59)
    elif roll < 0.25:
        idle = rng.randint(60, 599)
    elif roll < 0.5:
        idle = rng.randint(600, HOUR - 1)
    else:
        idle = HOUR + int((DAY - HOUR) * rng.random() ** 1.5)
    return min(idle, max(0, ttl - 600))


def devices(rng: random.Random, several: float) -> int:
    """Sessions of one user: mostly one, some on two, a few on up to five."""
    roll = rng.random()
    if roll < several / 4:
        return rng.randint(3, 5)
    if roll < several:
        return 2
    return 1


@dataclass(frozen=True)
class AppProfile:
    name: str
    share: float  # of the users
    ttls: tuple[int, ...]
    several_devices: float  # probability of two or more sessions
    user_id: Callable[[random.Random, int], str]
    data: Callable[[random.Random], dict[str, DValue] | None]
    ip: Callable[[random.Random], str] = ipv4
    no_resave: bool = False


def _shop_data(rng: random.Random) -> dict[str, DValue] | None:
    if rng.random() < 0.4:
        return None
    return {
        "cart_items": rng.randint(0, 7),
        "currency": rng.choice(("EUR", "USD", "GBP", "JPY")),
        "locale": rng.choice(("en-GB", "de-DE", "fr-FR", "ja-JP", "pt-BR")),
    }


def _forum_data(rng: random.Random) -> dict[str, DValue] | None:
    if rng.random() < 0.3:
        return None
    return {"theme": rng.choice(("dark", "light")), "unread": rng.randint(0, 120)}


def _mobile_data(rng: random.Random) -> dict[str, DValue]:
    return {
        "device": rng.choice(("iPhone 15", "Pixel 8", "Galaxy S23", "iPad Air", "Fairphone 5")),
        "app_version": rng.choice(("4.2.1", "4.2.0", "4.1.7")),
        "push": rng.random() < 0.7,
    }


def _portal_data(rng: random.Random) -> dict[str, DValue]:
    return {"role": rng.choice(("support", "billing", "ops", "auditor")), "mfa": True}


def _cms_data(rng: random.Random) -> dict[str, DValue] | None:
    if rng.random() < 0.5:
        return None
    return {"draft": "<img src=x onerror=alert(1)>", "pi": 3.141592653589793, "nothing": None}


def _person(rng: random.Random, n: int) -> str:
    return f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}{n}"


def _cms_user(rng: random.Random, n: int) -> str:
    return HOSTILE_IDS[n] if n < len(HOSTILE_IDS) else f"editor-{n}"


APPS = (
    AppProfile(
        name="shop",
        share=0.40,
        ttls=(2 * DAY, 7 * DAY),
        several_devices=0.25,
        user_id=lambda rng, n: f"{100000 + n * 37}",
        data=_shop_data,
    ),
    AppProfile(
        name="forum",
        share=0.25,
        ttls=(30 * DAY,),
        several_devices=0.2,
        user_id=_person,
        data=_forum_data,
    ),
    AppProfile(
        name="api_mobile",
        share=0.20,
        ttls=(90 * DAY,),
        several_devices=0.45,
        user_id=lambda rng, n: f"usr_{rng.getrandbits(48):012x}",
        data=_mobile_data,
        ip=ipv6,
    ),
    AppProfile(
        name="admin_portal",
        share=0.05,
        ttls=(8 * HOUR,),
        several_devices=0.3,
        user_id=lambda rng, n: f"{_person(rng, n)}@corp.example",
        data=_portal_data,
        ip=lambda rng: f"10.20.{rng.randint(0, 3)}.{rng.randint(2, 250)}",
        no_resave=True,
    ),
    AppProfile(
        name="legacy-cms",
        share=0.10,
        ttls=(DAY + 2 * HOUR,),
        several_devices=0.15,
        user_id=_cms_user,
        data=_cms_data,
    ),
)


def seed_app(rs: RedisSessions, profile: AppProfile, users: int, rng: random.Random) -> int:
    """Create one app's sessions, count some reads and writes, then spread their activity."""
    new: list[NewSession] = []
    for n in range(users):
        user = profile.user_id(rng, n)
        home = profile.ip(rng)
        for device in range(devices(rng, profile.several_devices)):
            session: NewSession = {
                "id": user,
                "ip": home if device == 0 else profile.ip(rng),
                "ttl": rng.choice(profile.ttls),
                "no_resave": profile.no_resave,
            }
            data = profile.data(rng)
            if data:
                session["d"] = data
            new.append(session)
    tokens = [t["token"] for t in rs.create_many(app=profile.name, sessions=new)]
    # Some traffic before the backdating, so r and w vary from session to session.
    for _ in range(3):
        rs.get_many(app=profile.name, tokens=rng.sample(tokens, k=len(tokens) // 3))
    for token in rng.sample(tokens, k=len(tokens) // 10):
        rs.set(app=profile.name, token=token, d={"last_page": rng.choice(("/", "/help", "/me"))})
    backdate: list[Backdate] = [
        {"token": token, "id": s["id"], "idle": idle_seconds(rng, int(s.get("ttl") or 0))}
        for token, s in zip(tokens, new, strict=True)
    ]
    backdate_many(rs, app=profile.name, sessions=backdate)
    return len(tokens)


MIN_USERS = 20


def at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ValueError(text)
        return value

    parse.__name__ = "int"  # argparse names the type in its error message
    return parse


class Command(BaseCommand):
    help = "Write realistic demo sessions (several apps, hundreds of users) to the store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--users",
            type=at_least(MIN_USERS),
            default=500,
            help=f"users over all apps (default 500, at least {MIN_USERS})",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the namespace already holds sessions",
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed (default: new)")

    def handle(self, *args: Any, users: int, if_empty: bool, seed: int | None, **opts: Any) -> None:
        rs = sessions()
        if if_empty:
            stats = rs.app_stats(apps=rs.apps())
            held = sum(s["sessions"] for s in stats)
            if held:
                names = ", ".join(s["app"] for s in stats if s["sessions"])
                self.stdout.write(
                    f"Demo data not seeded: namespace {rs.namespace!r} already holds "
                    f"{held} sessions ({names})."
                )
                return
        rng = random.Random(seed)
        # Every app gets its share (at least one user); the biggest one takes the rounding.
        per_app = {p.name: max(1, round(users * p.share)) for p in APPS[1:]}
        per_app[APPS[0].name] = users - sum(per_app.values())
        created = sum(seed_app(rs, p, per_app[p.name], rng) for p in APPS)
        self.stdout.write(
            f"Seeded {sum(per_app.values())} users with {created} sessions in {len(APPS)} apps "
            f"(namespace {rs.namespace!r})."
        )
