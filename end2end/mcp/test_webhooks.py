"""Signed webhooks end to end, verified by the Standard Webhooks reference
library (`standardwebhooks`, pinned in requirements.txt) in a receiver on
this machine, against the real acekeys binary (SQLite):

- every announced change (a revocation, a quarantine and its release, a
  leaked-key report and the revocation it causes, a key's 1-day expiry
  notice) reaches the receiver, correctly signed, exactly once after
  de-duplication on `webhook-id`, although the receiver refuses every
  message at first and the server is killed (SIGKILL) and restarted in the
  middle;
- after a rotation, messages verify with the new secret and, for the grace
  period, the old one; a wrong secret never verifies.
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from test_python_sdk import start


class Receiver:
    """A webhook endpoint that verifies every request with the library and
    answers 503 until told to accept."""

    def __init__(self):
        self.lock = threading.Lock()
        self.secret = None
        self.accepting = False
        self.refused = 0
        self.forged = 0
        self.received = []  # (webhook-id, payload), verified, duplicates kept
        self.raw = {}  # webhook-id -> (body, headers) of its last delivery
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    try:
                        payload = Webhook(receiver.secret).verify(body, headers)
                    except WebhookVerificationError:
                        receiver.forged += 1
                        self.send_response(400)
                    else:
                        if receiver.accepting:
                            receiver.received.append((headers["webhook-id"], payload))
                            receiver.raw[headers["webhook-id"]] = (body, headers)
                            self.send_response(204)
                        else:
                            receiver.refused += 1
                            self.send_response(503)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/acekeys"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def unique(self):
        with self.lock:
            return dict(self.received)


def call(method, url, key, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None


def until(check, seconds=30, state=lambda: ""):
    deadline = time.time() + seconds
    while not check():
        if time.time() > deadline:
            raise TimeoutError(f"condition not met: {state()}")
        time.sleep(0.05)


class SignedWebhooks(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="acekeys-webhooks-")
        self.receiver = Receiver()
        # The endpoint is added before the server starts (by the seed, through
        # the same authority code), so it gets what the first expiry scan finds.
        self.keys = json.loads(subprocess.check_output(
            [os.environ["SEED_BIN"], self.dir, self.receiver.url], text=True))
        self.receiver.secret = self.keys["webhook"]["secret"]
        # A leaked-key scanner's signing key, as GitHub would publish it.
        self.scanner = ec.generate_private_key(ec.SECP256R1())
        pem = self.scanner.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        keys_file = os.path.join(self.dir, "scanner-keys.json")
        with open(keys_file, "w") as f:
            json.dump({"public_keys": [{"key_identifier": "scanner-1", "key": pem, "is_current": True}]}, f)
        self.env = {
            "ACEKEYS_DATA_DIR": self.dir, "LEPTOS_SITE_ADDR": "127.0.0.1:0", "RUST_LOG": "info",
            "ACEKEYS_ALLOW_INSECURE_WEBHOOKS": "true", "ACEKEYS_WEBHOOK_FIRST_RETRY_MS": "200",
            "ACEKEYS_LEAK_REPORT_KEYS": keys_file,
        }
        self.acekeys = None
        self.start_server()

    def start_server(self):
        self.acekeys, self.base, _ = start(
            [os.environ["ACEKEYS_BIN"], "serve"], self.env, "acekeys listening on ",
            os.path.join(self.dir, "acekeys.log"))

    def tearDown(self):
        self.receiver.server.shutdown()
        if self.acekeys:
            self.acekeys.kill()
            self.acekeys.wait()
            self.acekeys.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def api(self, method, path, body=None):
        return call(method, f"{self.base}/api/v1{path}", self.keys["admin"], body)

    def mint(self, name):
        minted = self.api("POST", "/keys/mint", {"name": name, "scopes": ["svc:wiki:read"], "expires_days": 30})
        return minted["key"], minted["id"]

    def report_leak(self, token):
        body = json.dumps([{"token": token, "type": "acekeys_api_key",
                            "url": "https://github.com/acme/app/blob/main/.env", "source": "content"}])
        signature = base64.b64encode(self.scanner.sign(body.encode(), ec.ECDSA(hashes.SHA256()))).decode()
        req = urllib.request.Request(f"{self.base}/api/v1/leaks/github", data=body.encode(), method="POST", headers={
            "Content-Type": "application/json", "Github-Public-Key-Identifier": "scanner-1",
            "Github-Public-Key-Signature": signature})
        with urllib.request.urlopen(req) as r:
            self.assertEqual(json.load(r)[0]["label"], "true_positive")

    def test_every_change_arrives_signed_exactly_once_across_a_kill_and_restart(self):
        receiver = self.receiver
        hook = self.keys["webhook"]
        self.assertTrue(hook["secret"].startswith("whsec_"))
        listed = self.api("GET", "/webhooks")["webhooks"]
        self.assertEqual([h["id"] for h in listed], [hook["id"]])
        self.assertEqual(len(listed[0]["events"]), 5, "all types by default")
        self.assertNotIn("secret", listed[0])

        _, revoked = self.mint("revoked-by-hand")
        self.api("POST", f"/keys/{revoked}/revoke", {"reason": "rotated out"})
        _, held = self.mint("held")
        self.api("POST", f"/keys/{held}/quarantine", {"reason": "looked odd"})
        self.api("POST", f"/keys/{held}/release", {"reason": "it was fine"})
        leaked_key, leaked = self.mint("leaked")
        self.report_leak(leaked_key)

        # Refused while the receiver is down, then the server dies mid-retry.
        until(lambda: receiver.refused >= 6, state=lambda: f"{receiver.refused} refused, {receiver.forged} forged")
        self.acekeys.kill()
        self.acekeys.wait()
        self.acekeys.stdout.close()
        with receiver.lock:
            receiver.accepting = True
        self.start_server()

        expected = {
            ("key.revoked", revoked), ("key.quarantined", held), ("key.released", held),
            ("leak.reported", leaked), ("key.revoked", leaked), ("key.expiring", self.keys["expiring_id"]),
        }
        until(lambda: len(receiver.unique()) >= len(expected), state=lambda: receiver.unique())
        time.sleep(1.0)  # anything still owed would arrive now
        seen = receiver.unique()
        got = {(p["type"], p["data"]["key_id"]) for p in seen.values()}
        self.assertEqual(got, expected)
        self.assertEqual(len(seen), len(expected), "one webhook-id per change")
        self.assertEqual(receiver.forged, 0)
        expiring = next(p for p in seen.values() if p["type"] == "key.expiring")
        self.assertEqual(expiring["data"]["notice"], "1d")
        leak = next(p for p in seen.values() if p["type"] == "leak.reported")
        self.assertIn("github.com/acme/app", leak["data"]["reason"])

        log = self.api("GET", f"/webhooks/{hook['id']}/deliveries")["deliveries"]
        self.assertEqual({d["message_id"] for d in log}, set(seen))
        self.assertTrue(all(d["state"] == "delivered" for d in log), log)
        self.assertTrue(any(d["attempts"] >= 2 for d in log), "the refused ones were retried")

        # Rotation: the new secret verifies; the old one still does, for now.
        old = receiver.secret
        rotated = self.api("POST", f"/webhooks/{hook['id']}/rotate")
        self.assertNotEqual(rotated["secret"], old)
        self.assertIsNotNone(rotated["webhook"]["previous_secret_until"])
        with receiver.lock:
            receiver.secret = rotated["secret"]
        _, late = self.mint("after-rotation")
        self.api("POST", f"/keys/{late}/revoke")
        revoked_at = time.monotonic()
        until(lambda: any(p["data"]["key_id"] == late for p in receiver.unique().values()))
        print(f"\nrevocation -> verified webhook at the receiver: {(time.monotonic() - revoked_at) * 1000:.0f} ms")
        message_id = next(i for i, p in receiver.unique().items() if p["data"]["key_id"] == late)
        body, headers = receiver.raw[message_id]
        Webhook(old).verify(body, headers)
        wrong = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        with self.assertRaises(WebhookVerificationError):
            Webhook(wrong).verify(body, headers)
        self.assertEqual(receiver.forged, 0)


if __name__ == "__main__":
    unittest.main()
