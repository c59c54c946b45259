"""One writer per (environment, model): a lease recorded on the model in MLflow.

Two applies of one model into one environment at once (two CLI runs, a promotion racing a
rollback) would interleave their writes: one data plane serving v2, the next v3, the alias at 3.
The workflows' concurrency groups serialise runs in CI; the lease serialises every writer that
reaches this MLflow, however it was started. It is a tag on the registered model,
``domino_mlops.lease.<ENV>``, holding who writes, until when, and from where; it is taken before
the first write, checked again before each step that writes and before a put-back (so a run
that lost it stops before writing), renewed while the run waits on Domino (one renewer thread per
apply, one search per round, a write only near expiry), and removed at the end.

MLflow has no conditional write, so taking it is read, write, settle, read: two runs that both
read it free both write it, and after ``settle`` seconds both read it back; only the last
writer finds itself there, the other stops before any other write. An apply takes the leases
of all its models together (``Leases.acquire_all``): one search reads them, one settle serves
them all. What remains open is a run that stalls for longer than ``settle`` between its read
and its write (a lost packet, a paused VM): it may overwrite a lease the other has already
confirmed. That run then confirms it too; the other finds it gone at its next check (before its
next step that writes) and stops, but what it wrote in between stands. tests/apply/test_races.py
and test_lease_batch.py force these interleavings step by step.

A lease expires ``ttl`` seconds after its last renewal, so a run that was killed blocks nobody
for long; one whose process is gone on this very host (a crash, then a re-run) is free at once,
and so is one written by an earlier attempt of the very GitHub job now running (a re-run of a
crashed job, on another runner). A run with nothing to write still removes such a lease
(``Leases.clear_stale``): a run killed after its last write would otherwise block other runs
until the lease runs out.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from domino_mlops.clients.mlflow.registry import MlflowRegistry, ModelHead
from domino_mlops.errors import DominoMlopsError, LeaseHeld

TAG = "domino_mlops.lease.{environment}"
RENEW_BELOW = 1.5  # rounds of life left under which a renewal round writes a lease anew (_Renewer)


@dataclass(frozen=True, slots=True)
class LeaseSettings:
    ttl: float = 90.0  # seconds a lease lives after its last renewal
    settle: float = 1.0  # seconds between writing a lease and confirming it (see the module docstring)
    renew_every: float = 30.0
    holder: str = ""  # who, for the message a loser reads: actor and run URL, never a secret
    wait: float = 0.0  # seconds to wait for another run's lease to end before giving up (LeaseHeld)
    poll: float = 2.0  # seconds between looks while waiting
    # Which GitHub job this is (GITHUB_RUN_ID/GITHUB_JOB, GITHUB_RUN_ATTEMPT), recorded in the claim so
    # that a re-run of a crashed job knows its earlier attempt's lease for dead; "" and 0 outside Actions.
    job: str = ""
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Claim:
    """What the tag holds."""

    owner: str  # a fresh id per apply: the only thing compared
    holder: str
    host: str
    pid: int
    expires: float
    job: str = ""  # the GitHub run and job that wrote it ("" outside Actions)
    attempt: int = 0  # that job's attempt (GITHUB_RUN_ATTEMPT)

    def to_json(self) -> str:
        data: dict[str, object] = {"owner": self.owner, "holder": self.holder, "host": self.host, "pid": self.pid,
                                   "expires": round(self.expires, 3)}
        if self.job:
            data.update(job=self.job, attempt=self.attempt)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str | None) -> Claim | None:
        """A claim, or None for no tag or one we cannot read (treated as free: it guards nothing)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(str(data["owner"]), str(data.get("holder", "")), str(data.get("host", "")),
                       int(data.get("pid", 0)), float(data["expires"]), str(data.get("job", "")),
                       int(data.get("attempt", 0)))
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        until = time.strftime("%H:%M:%SZ", time.gmtime(self.expires))
        attempt = f", attempt {self.attempt}" if self.job else ""
        return f"{self.holder or 'an apply'} on {self.host} (pid {self.pid}{attempt}), lease until {until}"

    def alive(self, now: float) -> bool:
        if now >= self.expires:
            return False
        if self.host == socket.gethostname() and self.pid and not _process_exists(self.pid):
            return False  # its process is gone: a crash on this machine blocks nobody
        return True

    def superseded_by(self, job: str, attempt: int) -> bool:
        """Written by an earlier attempt of the job now running, so provably dead wherever it ran:
        GitHub starts another attempt of a run only once the whole run has completed (a re-run
        of a crashed job). The same attempt (a matrix sibling shares the job's name), a later
        one, another job or another run may be alive: never taken from them."""
        return bool(job) and self.job == job and 0 < self.attempt < attempt


@dataclass
class Lease:
    """A held lease: check it before each write, release it when done."""

    registry: MlflowRegistry
    model: str
    environment: str
    claim: Claim
    settings: LeaseSettings
    lost_to: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)  # set: released, or (tests) its run died
    _renewer: _Renewer | None = None
    _released: bool = False

    @property
    def tag(self) -> str:
        return TAG.format(environment=self.environment)

    def check(self) -> None:
        """Before a write: raise LeaseHeld when another run took the lease over."""
        self._verify(lambda: self.registry.model_tags(self.model))

    def verify(self, head: ModelHead) -> None:
        """``check`` on a read made for another reason right before a write (the alias's
        compare-and-swap reads the registered model anyway): no request of its own."""
        self._verify(lambda: head.tag_map)

    def _verify(self, tags: Callable[[], dict[str, str]]) -> None:
        if self.lost_to is None:  # once lost, always lost: nothing more to read
            found = Claim.parse(tags().get(self.tag))
            if found is None or found.owner != self.claim.owner:
                self.lost_to = found.describe() if found else "the lease was removed"
        if self.lost_to is not None:
            raise LeaseHeld(self.model, self.environment, self.lost_to, lost=True)

    def still_held(self) -> bool:
        try:
            self.check()
        except LeaseHeld:
            return False
        return True

    def release(self) -> None:
        """Stop renewing; remove the tag if it is still ours (never another run's). Once: a second
        call asks MLflow nothing (it would find the tag gone and count the lease as lost)."""
        if self._released:
            return
        self._released = True
        self._stop.set()
        if self._renewer is not None:
            self._renewer.forget(self)
        try:
            if self.still_held():
                self.registry.delete_model_tag(self.model, self.tag)
        except DominoMlopsError:
            pass  # it expires by itself; the work is done or reported already


class _Renewer:
    """One thread renews every lease an apply holds (issue 23: a thread and a write per lease per
    period cost 41 MLflow writes per model in a 1,000-model apply).

    Every ``renew_every`` seconds one search per credential reads all the held leases' tags
    (``reader.heads``): a lease another run took over is marked lost (its run stops before its
    next write, as ``Lease.check`` would have), and only a lease that would expire before the
    next round with half a round to spare (``RENEW_BELOW`` rounds left) is written anew: with the
    defaults (ttl 90 s, a round every 30 s) a lease is written at the round 60 s after it was
    taken, then every 60 s, and one held for less than a minute is never renewed: taken and given
    back, two writes. A round that starts up to half a round late still renews in time. The
    thread ends when no lease is held and starts again with the next one."""

    def __init__(self, settings: LeaseSettings, clock: Callable[[], float]) -> None:
        self._settings, self._clock = settings, clock
        self._held: dict[int, Lease] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()  # set when the last lease is given back: the thread ends now

    def hold(self, lease: Lease) -> None:
        with self._lock:
            self._held[id(lease)] = lease
            lease._renewer = self
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True, name="lease-renewer")
                self._thread.start()

    def forget(self, lease: Lease) -> None:
        with self._lock:
            self._held.pop(id(lease), None)
            if not self._held:
                self._idle.set()

    def held(self) -> list[Lease]:
        with self._lock:
            return [lease for lease in self._held.values() if not lease._stop.is_set()]

    def _loop(self) -> None:
        while True:
            self._idle.wait(self._settings.renew_every)
            with self._lock:
                if not any(not lease._stop.is_set() for lease in self._held.values()):
                    self._thread = None  # a lease held after this starts a new thread
                    return
            self.renew_once()

    def renew_once(self) -> None:
        """One round: one search per credential, a write only for a lease close to its expiry."""
        by_registry: dict[int, list[Lease]] = {}
        for lease in self.held():
            by_registry.setdefault(id(lease.registry), []).append(lease)
        for leases in by_registry.values():
            try:
                heads = leases[0].registry.reader.heads(sorted({lease.model for lease in leases}))
            except DominoMlopsError:
                continue  # a passing fault: the next round reads again, long before any expiry
            for lease in leases:
                self._renew(lease, heads.get(lease.model))

    def _renew(self, lease: Lease, head: ModelHead | None) -> None:
        if lease._stop.is_set() or lease.lost_to is not None:
            return
        try:
            lease.verify(head) if head is not None else lease.check()
        except LeaseHeld:
            self.forget(lease)
            return
        except DominoMlopsError:
            return
        now = self._clock()
        if lease.claim.expires - now > RENEW_BELOW * self._settings.renew_every:
            return  # it outlives the next round with half a round to spare: no write
        renewed = _with_expiry(lease.claim, now + self._settings.ttl)
        try:
            lease.registry.set_model_tag(lease.model, lease.tag, renewed.to_json())
        except DominoMlopsError:
            return  # the next round tries again; the old expiry still stands
        lease.claim = renewed


class Leases:
    """Takes leases for one apply (one owner id for all the models it changes)."""

    def __init__(self, settings: LeaseSettings = LeaseSettings(), *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 on_wait: Callable[[str, str], None] = lambda model, holder: None) -> None:
        self.settings, self._clock, self._sleep, self._on_wait = settings, clock, sleep, on_wait
        self.owner = uuid.uuid4().hex
        self.renewer = _Renewer(settings, clock)  # one for every lease this apply takes

    def wait_until_free(self, registry: MlflowRegistry, model: str, environment: str) -> None:
        """Wait (up to ``settings.wait``) until no other run holds the model's lease, without
        taking it: a rollback waits out a running promotion before it plans, so it plans from
        what that promotion left. Raises LeaseHeld when the wait runs out."""
        deadline = self._clock() + self.settings.wait
        while True:
            found = Claim.parse(registry.model_tags(model).get(TAG.format(environment=environment)))
            if self._free(found):
                return
            self._pause(model, environment, found, deadline)

    def acquire_all(self, registry: MlflowRegistry, models: list[str],
                    environment: str) -> dict[str, Lease | DominoMlopsError]:
        """Every model's lease at once, the same read, write, settle, read as ``acquire`` but with
        one search for all the reads and one settle for all: per model one write, where
        ``acquire`` makes three requests and sleeps ``settle`` seconds. A model held by another
        run is waited for (``settings.wait``, one deadline for all of them) the way ``acquire``
        waits. Each model gets its Lease or the error that stops it; only a failed first read,
        before anything is written, raises."""
        tag = TAG.format(environment=environment)
        heads = registry.reader.heads(models)
        claim = self._claim()
        outcome: dict[str, Lease | DominoMlopsError] = {}
        written: list[str] = []
        held: list[str] = []
        for model in models:
            found = Claim.parse(heads[model].tag_map.get(tag)) if model in heads else None
            if not self._free(found):
                outcome[model] = _held(model, environment, found)
                held.append(model)
                continue
            try:
                registry.set_model_tag(model, tag, claim.to_json())
                written.append(model)
            except DominoMlopsError as exc:
                outcome[model] = exc
        if written:
            self._sleep(self.settings.settle)  # once for all: a run that read them free writes meanwhile
            try:
                confirmed = registry.reader.heads(written)
            except DominoMlopsError as exc:  # written, not confirmed: each claim expires unrenewed
                outcome.update({model: exc for model in written})
                written = []
            for model in written:
                found = Claim.parse(confirmed[model].tag_map.get(tag)) if model in confirmed else None
                if found is None:
                    outcome[model] = LeaseHeld(model, environment, "the lease was removed")
                elif found.owner != self.owner:
                    outcome[model] = _held(model, environment, found)  # a later writer won: it holds it
                else:
                    outcome[model] = self._held_lease(registry, model, environment, claim)
        if self.settings.wait > 0:
            deadline = self._clock() + self.settings.wait
            for model in held:
                try:
                    outcome[model] = self.acquire(registry, model, environment, deadline=deadline)
                except DominoMlopsError as exc:
                    outcome[model] = exc
        return outcome

    def acquire(self, registry: MlflowRegistry, model: str, environment: str, *,
                deadline: float | None = None) -> Lease:
        """Take the lease (waiting up to ``settings.wait`` for another run's to end, or until
        ``deadline``), or raise LeaseHeld (exit 4) before anything is written."""
        deadline = self._clock() + self.settings.wait if deadline is None else deadline
        while True:
            try:
                return self._take(registry, model, environment)
            except LeaseHeld as held:
                if not isinstance(held.claim, Claim):
                    raise  # removed under us: not a run to wait for
                self._pause(model, environment, held.claim, deadline, held)

    def clear_stale(self, registry: MlflowRegistry, models: list[str], environment: str) -> dict[str, str]:
        """For a run with nothing to write: remove the leases of ``models`` that provably guard
        nothing yet still block other runs (an earlier attempt of this job, or a process gone
        from this machine), left by a run killed after its last write. Returns model -> whose
        lease it was and why it was stale.

        Each is taken and then given back the way any run takes a lease (read, write, settle,
        read), never deleted on sight: a run that took it between our read and our write keeps
        it (the later writer wins). An expired lease is left: nobody waits for it, and a
        re-run of finished work writes nothing."""
        tag = TAG.format(environment=environment)
        stale: dict[str, str] = {}
        for model, head in registry.reader.heads(models).items():
            found = Claim.parse(head.tag_map.get(tag))
            if found is not None and found.owner != self.owner and self._clock() < found.expires:
                why = self._stale(found)
                if why:
                    stale[model] = f"{found.describe()}: {why}"
        if not stale:
            return {}
        taking = Leases(replace(self.settings, wait=0.0), clock=self._clock, sleep=self._sleep)
        cleared: dict[str, str] = {}
        for model, taken in taking.acquire_all(registry, sorted(stale), environment).items():
            if isinstance(taken, Lease):
                taken.release()
                cleared[model] = stale[model]
        return cleared

    def _stale(self, found: Claim) -> str | None:
        """Why another run's claim guards nothing any more, or None while that run may be alive."""
        if found.superseded_by(self.settings.job, self.settings.attempt):
            return f"an earlier attempt ({found.attempt}) of this job, which GitHub ended before this one started"
        if self._clock() >= found.expires:
            return "it expired"
        if not found.alive(self._clock()):
            return "its process on this machine is gone"
        return None

    def _free(self, found: Claim | None) -> bool:
        return found is None or found.owner == self.owner or self._stale(found) is not None

    def _pause(self, model: str, environment: str, holder: Claim, deadline: float,
               error: LeaseHeld | None = None) -> None:
        left = deadline - self._clock()
        if left <= 0:
            raise error or LeaseHeld(model, environment, holder.describe())
        self._on_wait(model, holder.describe())
        self._sleep(min(self.settings.poll, left))

    def _take(self, registry: MlflowRegistry, model: str, environment: str) -> Lease:
        tag = TAG.format(environment=environment)
        found = Claim.parse(registry.model_tags(model).get(tag))
        if not self._free(found):
            raise _held(model, environment, found)
        claim = self._claim()
        registry.set_model_tag(model, tag, claim.to_json())
        self._sleep(self.settings.settle)  # let a run that read it free at the same time write too
        confirmed = Claim.parse(registry.model_tags(model).get(tag))
        if confirmed is None or confirmed.owner != self.owner:
            if confirmed is None:
                raise LeaseHeld(model, environment, "the lease was removed")
            raise _held(model, environment, confirmed)
        return self._held_lease(registry, model, environment, claim)

    def _claim(self) -> Claim:
        return Claim(self.owner, self.settings.holder, socket.gethostname(), os.getpid(),
                     self._clock() + self.settings.ttl, self.settings.job, self.settings.attempt)

    def _held_lease(self, registry: MlflowRegistry, model: str, environment: str, claim: Claim) -> Lease:
        """A confirmed lease, renewed from now on until released (by this apply's one renewer)."""
        lease = Lease(registry, model, environment, claim, self.settings)
        self.renewer.hold(lease)
        return lease


def _held(model: str, environment: str, claim: Claim) -> LeaseHeld:
    error = LeaseHeld(model, environment, claim.describe())
    error.claim = claim  # what a waiting run watches
    return error


def _with_expiry(claim: Claim, expires: float) -> Claim:
    return replace(claim, expires=expires)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    return True
