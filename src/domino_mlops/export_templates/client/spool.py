"""The prediction spool: server.py writes a record per prediction, `domino-mlops monitor-agent` reads them.

One file for both sides (the image copies it into client/, the agent loads this same file), so the
record's shape cannot drift between writer and reader. Standard library only, because the image
has nothing else: RabbitMQ's client (pika) is imported only when that spooler is asked for.

Two spoolers, chosen with DMLOPS_CAPTURE:
  sqlite    a SQLite file on a volume (DMLOPS_SPOOL_PATH): crash-safe (WAL, one transaction a
            record), read by an agent on the same volume.
  rabbitmq  a durable queue on a broker (DMLOPS_RABBITMQ_URL, DMLOPS_RABBITMQ_QUEUE), persistent
            messages published with confirms.
Delivery is at least once and in order: a reader gets the unacknowledged records oldest first
and acknowledges them once their metrics are in Domino; until then they stay, across a restart
of either side.
"""

import json
import queue
import sqlite3
import threading
import time
import uuid

DEFAULT_QUEUE = "dmlops.predictions"
DEFAULT_SPOOL_PATH = "/var/spool/dmlops/predictions.sqlite"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS records ("
           "position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)")


def new_record(model, version, seq, *, latency_ms, rows, status, inputs=None, outputs=None, now=None):
    """One prediction as a JSON-ready dict: ``id`` is unique, ``seq`` counts this process's records."""
    record = {"id": uuid.uuid4().hex, "seq": seq, "ts": time.time() if now is None else now,
              "model": model, "version": str(version), "latency_ms": round(float(latency_ms), 3),
              "rows": int(rows), "status": int(status)}
    if inputs is not None:
        record["inputs"] = inputs
    if outputs is not None:
        record["outputs"] = outputs
    return record


def _dumps(record):
    # default=str: a value JSON cannot carry (a numpy scalar, a timestamp) is kept as text rather
    # than blocking the writer on a record it could never write.
    return json.dumps(record, separators=(",", ":"), default=str)


class SqliteSpool:
    """The embedded spool: a SQLite file, safe to share between one writer and one reader process."""

    def __init__(self, path, timeout=30.0):
        import os

        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self.path = path
        # isolation_level=None: each statement commits on its own, nothing waits in an open transaction.
        self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a record said written survives a power cut
        self._db.execute(_SCHEMA)

    def put(self, record):
        self._db.execute("INSERT OR IGNORE INTO records (id, body) VALUES (?, ?)",
                         (record["id"], _dumps(record)))

    def read(self, limit=1000):
        """Up to ``limit`` unacknowledged records, oldest first, as (receipt, record)."""
        rows = self._db.execute("SELECT position, body FROM records ORDER BY position LIMIT ?", (limit,))
        return [(position, json.loads(body)) for position, body in rows.fetchall()]

    def ack(self, receipts):
        receipts = list(receipts)
        for start in range(0, len(receipts), 500):
            part = receipts[start:start + 500]
            self._db.execute(f"DELETE FROM records WHERE position IN ({','.join('?' * len(part))})", part)

    def count(self):
        return self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0]

    def close(self):
        self._db.close()


class RabbitSpool:
    """A durable RabbitMQ queue. Writers publish persistent messages with publisher confirms; a
    reader holds what it read unacknowledged until ack(), so a reader that dies gets them back."""

    def __init__(self, url, queue_name=DEFAULT_QUEUE):
        import pika  # only here: the image installs it only when the RabbitMQ spooler is configured

        self._pika = pika
        self.queue_name = queue_name
        self._connection = pika.BlockingConnection(pika.URLParameters(url))
        self._channel = self._connection.channel()
        self._channel.queue_declare(queue=queue_name, durable=True)
        self._confirming = False

    def put(self, record):
        if not self._confirming:
            self._channel.confirm_delivery()  # basic_publish then raises unless the broker took it
            self._confirming = True
        self._channel.basic_publish(
            exchange="", routing_key=self.queue_name, body=_dumps(record),
            properties=self._pika.BasicProperties(delivery_mode=2, message_id=record["id"],
                                                  content_type="application/json"))

    def read(self, limit=1000):
        """Up to ``limit`` records not yet read on this connection, oldest first, as (receipt, record)."""
        found = []
        while len(found) < limit:
            method, _properties, body = self._channel.basic_get(self.queue_name, auto_ack=False)
            if method is None:
                break
            found.append((method.delivery_tag, json.loads(body)))
        return found

    def ack(self, receipts):
        for tag in sorted(receipts):
            self._channel.basic_ack(delivery_tag=tag)

    def count(self):
        return self._channel.queue_declare(queue=self.queue_name, durable=True, passive=True).method.message_count

    def close(self):
        try:
            self._connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection: nothing more to do
            pass


def open_spool(mode, *, path=DEFAULT_SPOOL_PATH, url="", queue_name=DEFAULT_QUEUE):
    if mode == "sqlite":
        return SqliteSpool(path)
    if mode == "rabbitmq":
        if not url:
            raise ValueError("DMLOPS_CAPTURE=rabbitmq needs DMLOPS_RABBITMQ_URL (amqp://user:password@host:5672/vhost)")
        return RabbitSpool(url, queue_name)
    raise ValueError(f"unknown spooler {mode!r}: use sqlite or rabbitmq (or off)")


class Capture:
    """Hands records to the spool off the request path: ``offer`` never blocks and never raises.

    A bounded in-memory queue sits between the request threads and one writer thread. When the
    spool is slow or down and the queue is full, the record is dropped and counted, so a prediction
    is never slowed or failed by monitoring; /health shows the counters. The writer opens the spool
    itself and opens it again after a failure (a broker restart), keeping the record it failed on.
    """

    def __init__(self, opener, *, capacity=10000, retry_seconds=1.0):
        self._opener = opener
        self._queue = queue.Queue(maxsize=capacity)
        self._retry = retry_seconds
        self._lock = threading.Lock()
        self.captured = 0
        self.dropped = 0
        self.last_error = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dmlops-capture", daemon=True)
        self._thread.start()

    def offer(self, record):
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def status(self):
        with self._lock:
            return {"captured": self.captured, "dropped": self.dropped, "pending": self._queue.qsize(),
                    "error": self.last_error}

    def flush(self, timeout=10.0):
        """Wait until every offered record is written (or ``timeout``); True when it is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def close(self):
        self._stop.set()
        self._queue.put(None)  # wakes the writer; close() may wait for room, which is fine at shutdown
        self._thread.join(timeout=10)

    def _run(self):
        spool = None
        record = None
        while True:
            if record is None:
                record = self._queue.get()
                if record is None:
                    break
            try:
                if spool is None:
                    spool = self._opener()
                spool.put(record)
            except Exception as exc:  # noqa: BLE001 - any spool failure: keep the record, retry, say so
                # The type only: a broker's message may carry its URL, and with it a password.
                with self._lock:
                    self.last_error = f"{type(exc).__name__}; retrying every {self._retry:g} s"
                if spool is not None:
                    spool.close()
                    spool = None
                if self._stop.wait(self._retry):
                    break
                continue
            with self._lock:
                self.captured += 1
                self.last_error = ""
            record = None
            self._queue.task_done()
        if spool is not None:
            spool.close()
