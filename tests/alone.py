"""The suite runs on two processes (pytest-xdist, ``-n 2`` in setup.cfg); the
tests that time themselves against the wall clock run alone, and the tests
that share a resource outside their own temporary folder take turns.

A test marked ``alone`` measures wall-clock time (a regular expression's
budget, the event loop's latency while bcrypt hashes, a worker's shutdown
grace): a test busy on the other process would take half the machine from it
and could make it fail. So it runs while no other test of the run does.

The processes share lock files (``flock``): every test holds the *room*
shared while it runs (setup to teardown); an ``alone`` test holds it
exclusively. The *door* is taken before the room, and an ``alone`` test keeps
it while it waits for the room to empty, so the other process's next tests
queue behind it instead of overtaking it forever. xdist hands each process
its tests in runs of neighbours, so an ``alone`` test is often followed by
another (a module of them): it then keeps the room, one wait for the row.

A test marked ``one_at_a_time(name)`` holds the lock ``name`` exclusively
while it runs: two such tests never run at once (two ``pip wheel`` builds in
the source tree would share its build/ folder).

(pytest-xdist's own ``xdist_group`` marker with ``--dist loadgroup`` does
nothing with pytest 9: xdist 3.8 renames ``item._nodeid``, which pytest 9 no
longer reads, so the groups are silently spread over the processes.)

Without xdist workers (``-n 0``) nothing is locked: tests run one at a time
anyway.
"""

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

LOCK_DIR_ENV = "CONTACTS_API_TEST_LOCK_DIR"
ALONE = "alone"
ONE_AT_A_TIME = "one_at_a_time"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ALONE}: the test measures wall-clock time; with xdist it runs while no other "
        "test does (tests/alone.py)",
    )
    config.addinivalue_line(
        "markers",
        f"{ONE_AT_A_TIME}(name): tests holding the same name never run at once (tests/alone.py)",
    )
    # The controller makes the lock folder before xdist starts its workers
    # (in pytest_sessionstart), so they inherit its path in the environment.
    if not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None):
        folder = tempfile.mkdtemp(prefix="contacts-api-test-locks-")
        os.environ[LOCK_DIR_ENV] = folder
        config.stash[_folder_key] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    room = config.stash.get(_room_key, None)
    if room is not None:
        room.close()
    folder = config.stash.get(_folder_key, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(LOCK_DIR_ENV, None)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    # tryfirst: outside pytest-timeout's wrapper, so waiting is not the test's time
    room = _room(item.config)
    if room is None:
        return (yield)
    alone = _is_alone(item)
    room.enter(alone=alone)
    try:
        with room.turn(_turn_name(item)):
            return (yield)
    finally:
        room.leave(keep=alone and nextitem is not None and _is_alone(nextitem))


def _is_alone(item: pytest.Item) -> bool:
    return item.get_closest_marker(ALONE) is not None


def _turn_name(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker(ONE_AT_A_TIME)
    return None if mark is None else str(mark.args[0])


_folder_key = pytest.StashKey[str]()
_room_key = pytest.StashKey["Room | None"]()


def _room(config: pytest.Config) -> "Room | None":
    if _room_key not in config.stash:
        folder = os.environ.get(LOCK_DIR_ENV)
        on_worker = hasattr(config, "workerinput")
        config.stash[_room_key] = Room(Path(folder)) if on_worker and folder else None
    return config.stash[_room_key]


class Room:
    """This process's side of the shared locks (a readers-writer lock that
    lets a waiting writer in first)."""

    def __init__(self, folder: Path):
        self._folder = folder
        self._door = open(folder / "door", "a")  # noqa: SIM115 (held for the session)
        self._room = open(folder / "room", "a")  # noqa: SIM115
        self._alone = False

    @contextlib.contextmanager
    def turn(self, name: str | None) -> Iterator[None]:
        """Hold the lock ``name`` (none for ``None``) meanwhile."""
        if name is None:
            yield
            return
        if not re.fullmatch(r"[a-z0-9-]+", name):
            raise ValueError(f"a lock name is lowercase letters, digits and dashes: {name!r}")
        with open(self._folder / f"turn-{name}", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock files, which lets go of any lock still held."""
        self._door.close()
        self._room.close()

    def enter(self, *, alone: bool) -> None:
        if alone and self._alone:
            return  # kept from the previous test, alone too
        fcntl.flock(self._door, fcntl.LOCK_EX)
        fcntl.flock(self._room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        if not alone:
            fcntl.flock(self._door, fcntl.LOCK_UN)
        self._alone = alone

    def leave(self, *, keep: bool) -> None:
        if self._alone and keep:
            return
        fcntl.flock(self._room, fcntl.LOCK_UN)
        if self._alone:
            fcntl.flock(self._door, fcntl.LOCK_UN)
        self._alone = False
