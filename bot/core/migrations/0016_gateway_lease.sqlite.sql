-- The Discord gateway lease: at most one process holds the gateway (and drains the outbox).
-- One row (id 1, written by the first acquisition); taken and renewed by guarded single-statement updates (bot/core/lease.py). `epoch`
-- grows by one at every acquisition: the fencing token a holder shows with every renewal and
-- every fenced write, so a holder that was paused past its expiry cannot act on a lease it lost.
CREATE TABLE gateway_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT,
    epoch INTEGER NOT NULL DEFAULT 0 CHECK (epoch >= 0),
    expires_at REAL NOT NULL DEFAULT 0,
    acquired_at REAL
);

CREATE TRIGGER gateway_lease_epoch_grows BEFORE UPDATE OF epoch ON gateway_lease
WHEN NEW.epoch < OLD.epoch
BEGIN
    SELECT RAISE(ABORT, 'gateway lease epoch never goes back');
END;
