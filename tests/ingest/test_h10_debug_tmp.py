import time
from tests.support.multipart_fuzz import FuzzCase, send

def test_debug(live_server):
    for body_len, ct in [(1000, b"application/json"), (103532, b"application/json"), (103532, b"multipart/form-data; boundary=x")]:
        case = FuzzCase("/ingest/slot-001", [b"Content-Type: " + ct], b"-" * body_len, body_len, False, False, "127.0.0.94")
        t = time.monotonic()
        try:
            a = send(live_server.url, case)
            print("ANSWER", body_len, ct, a.status, a.body[:100], round(time.monotonic() - t, 2))
        except Exception as e:
            print("EXC", body_len, ct, repr(e), round(time.monotonic() - t, 2))
