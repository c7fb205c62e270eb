"""The locks of tests/alone.py: an ``alone`` test runs while no other test
does, waits for the running ones, and is not overtaken by those that start
while it waits. Each ``Room`` opens the lock files anew, so two of them lock
each other out exactly as two xdist workers do (``flock`` belongs to the open
file, not to the process)."""

import threading
import time

import pytest

from tests.alone import Room

SETTLE_S = 0.3  # long enough for a thread that is not blocked to get in


class Entering:
    """``room.enter(alone=...)`` in a thread of its own: has it got in yet?"""

    def __init__(self, room: Room, *, alone: bool):
        self.inside = threading.Event()
        self.thread = threading.Thread(target=self._enter, args=(room, alone), daemon=True)
        self.thread.start()

    def _enter(self, room: Room, alone: bool) -> None:
        room.enter(alone=alone)
        self.inside.set()

    def got_in(self, timeout: float = 10) -> bool:
        return self.inside.wait(timeout)


@pytest.fixture
def rooms(tmp_path):
    """``rooms()``: a new process's side of the same locks; all closed afterwards."""
    made: list[Room] = []

    def new() -> Room:
        made.append(Room(tmp_path))
        return made[-1]

    yield new
    for room in made:
        room.close()


def test_tests_share_the_room(rooms):
    first, second = rooms(), rooms()
    first.enter(alone=False)
    assert Entering(second, alone=False).got_in()
    first.leave(keep=False)
    second.leave(keep=False)


def test_an_alone_test_waits_for_the_running_test_and_is_not_overtaken(rooms):
    running, alone, later = rooms(), rooms(), rooms()
    running.enter(alone=False)
    waiting = Entering(alone, alone=True)
    time.sleep(SETTLE_S)
    assert not waiting.inside.is_set()  # the running test is not finished
    # a test starting now would share the room with the running one, but queues
    queued = Entering(later, alone=False)
    time.sleep(SETTLE_S)
    assert not queued.inside.is_set()
    running.leave(keep=False)
    assert waiting.got_in()
    time.sleep(SETTLE_S)
    assert not queued.inside.is_set()  # alone means alone
    alone.leave(keep=False)
    assert queued.got_in()
    later.leave(keep=False)


def test_a_row_of_alone_tests_keeps_the_room_between_them(rooms):
    alone, other = rooms(), rooms()
    alone.enter(alone=True)
    queued = Entering(other, alone=False)
    alone.leave(keep=True)  # the next test is alone too
    time.sleep(SETTLE_S)
    assert not queued.inside.is_set()
    alone.enter(alone=True)  # at once: it still holds the room
    alone.leave(keep=False)  # the row ends
    assert queued.got_in()
    other.leave(keep=False)


def test_tests_holding_the_same_name_take_turns(rooms):
    first, second = rooms(), rooms()
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with first.turn("wheel-build"):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert holding.wait(10)
    got_it = threading.Event()

    def take(name: str) -> None:
        with second.turn(name):
            got_it.set()

    threading.Thread(target=take, args=("another-name",), daemon=True).start()
    assert got_it.wait(10)  # another name: no waiting
    got_it.clear()
    threading.Thread(target=take, args=("wheel-build",), daemon=True).start()
    time.sleep(SETTLE_S)
    assert not got_it.is_set()
    release.set()
    assert got_it.wait(10)
    holder.join(10)
