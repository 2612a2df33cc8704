"""Times the audit explorer's queries against a running acekeys server.

Called by scripts/bench-audit with the server's base URL, the seed's JSON
(admin key, key ids, agents) and the number of runs per query. Every query
goes through the REST API (`GET /api/v1/audit`, `/audit/timeline`,
`/audit/export`) and, for the page and the timeline, through the dashboard's
server functions with a signed-in session, on one keep-alive connection.
Prints p50/p95 per query and the export's rate and the server's peak RSS.
"""

import http.client
import json
import re
import sys
import time
import urllib.parse


def percentile(samples, q):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * q))]


class Client:
    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        self.base = base

    def request(self, method, path, body=None, headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, r.getheaders(), data


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def server_fn_paths(binary):
    """The server functions' paths (name + hash) as the binary routes them."""
    data = open(binary, "rb").read()
    found = {}
    for m in re.finditer(rb"/api/(sign_in|load_audit_page|audit_timeline)(\d{6,})", data):
        found[m.group(1).decode()] = m.group(0).decode()
    return found


def main():
    base, seed_path, runs, server_pid, binary = (
        sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    fns = server_fn_paths(binary)
    seed = json.load(open(seed_path))
    admin = seed["admin"]
    agent = seed["agents"][7]
    key = seed["keys"][7 * 2]
    quiet_agent = seed["agents"][49]
    api = Client(base)
    auth = {"Authorization": f"Bearer {admin}"}
    now_ms = int(time.time() * 1000)
    day = 24 * 3600 * 1000
    week = f"since={now_ms - 40 * day}&until={now_ms - 33 * day}"

    pages = {
        "newest page": "",
        "by agent": f"agent={agent}",
        "by key": f"key_id={key}",
        "by tool": "tool=delete_page",
        "by decision": "decision=denied",
        "by kind (admin)": "kind=admin",
        "7-day range": week,
        "tool + decision": "tool=update_page&decision=denied",
        "agent + decision + tool": f"agent={agent}&decision=denied&tool=delete_page",
        "key + decision + tool": f"key_id={key}&decision=denied&tool=delete_page",
        "quiet agent, denied, range": f"agent={quiet_agent}&decision=denied&tool=delete_page&{week}",
        "no match (kind admin + tool)": "kind=admin&tool=search",
    }
    print(f"{'query':<48} {'p50 ms':>9} {'p95 ms':>9}   ({runs} runs each)")

    def timed(name, path, headers, body=None, method="GET"):
        samples = []
        status = None
        for _ in range(runs):
            t = time.perf_counter()
            status, _, data = api.request(method, path, body, headers)
            samples.append((time.perf_counter() - t) * 1000)
            if status != 200:
                sys.exit(f"{name}: {path} answered {status}: {data[:300]!r}")
        print(f"{name:<48} {percentile(samples, 0.5):>9.2f} {percentile(samples, 0.95):>9.2f}", flush=True)
        return data

    for name, q in pages.items():
        timed(f"REST page: {name}", f"/api/v1/audit?limit=50&{q}", auth)
    first = json.loads(timed("REST page: newest (for cursor)", "/api/v1/audit?limit=50", auth))
    cursor = first["next_cursor"]
    timed("REST page: next by cursor", f"/api/v1/audit?limit=50&cursor={cursor}", auth)
    # A cursor 80 % down the trail (72 of its 90 days back): page 16,000
    # of the whole trail at 50 a page costs what page 2 does.
    old = json.loads(api.request("GET", f"/api/v1/audit?limit=1&until={now_ms - 72 * day}", None, auth)[2])
    timed("REST page: whole trail, 80% deep by cursor", f"/api/v1/audit?limit=50&cursor={old['next_cursor']}", auth)
    deep = f"agent={agent}"
    page = json.loads(api.request("GET", f"/api/v1/audit?limit=50&{deep}", None, auth)[2])
    for _ in range(20):
        page = json.loads(
            api.request("GET", f"/api/v1/audit?limit=50&{deep}&cursor={page['next_cursor']}", None, auth)[2]
        )
    timed("REST page: agent, 21st page", f"/api/v1/audit?limit=50&{deep}&cursor={page['next_cursor']}", auth)
    for r in ["24h", "7d", "30d", "all"]:
        timed(f"REST timeline: {r}", f"/api/v1/audit/timeline?range={r}", auth)
        timed(f"REST timeline: {r}, agent + denied", f"/api/v1/audit/timeline?range={r}&agent={agent}&decision=denied", auth)

    # The dashboard: sign in with the admin key, then call the explorer's
    # server functions as its page does (form-encoded arguments).
    form = urllib.parse.urlencode({"key": admin, "next": "/audit"})
    status, headers, _ = api.request(
        "POST", fns["sign_in"], form,
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": base},
    )
    cookie = "; ".join(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
    if not cookie:
        sys.exit(f"sign-in answered {status} without a session cookie")
    dash = {"Content-Type": "application/x-www-form-urlencoded", "Origin": base, "Cookie": cookie}
    for name, q in pages.items():
        if "since=" in q:
            continue  # the explorer offers ranges as presets (timed below)
        args = {"filters[range]": "all"}
        args.update({f"filters[{k}]": v for k, v in urllib.parse.parse_qsl(q)})
        timed(f"dashboard page: {name}", fns["load_audit_page"], dash, urllib.parse.urlencode(args), "POST")
    timed("dashboard page: 7d preset", fns["load_audit_page"], dash, "filters[range]=7d", "POST")
    timed("dashboard timeline: 24h", fns["audit_timeline"], dash, "filters[range]=24h", "POST")
    timed("dashboard timeline: all", fns["audit_timeline"], dash, "filters[range]=all", "POST")


    # Exports: whole trail and one agent, streamed; rate of output events.
    for name, q in [("export: one agent", f"agent={agent}"), ("export: whole trail", "")]:
        before = rss_kib(server_pid, "VmRSS")
        conn = http.client.HTTPConnection(api.host, api.port, timeout=3600)
        t = time.perf_counter()
        conn.request("GET", f"/api/v1/audit/export?format=ndjson&{q}", headers=auth)
        r = conn.getresponse()
        lines, peak = 0, before
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            lines += chunk.count(b"\n")
            peak = max(peak, rss_kib(server_pid, "VmRSS"))
        secs = time.perf_counter() - t
        if r.status != 200:
            sys.exit(f"{name} answered {r.status}")
        print(f"{name:<48} {lines:>9} events in {secs:.2f} s = {lines / secs:,.0f} events/s; "
              f"server RSS {before / 1024:.0f} MiB before, {peak / 1024:.0f} MiB peak")


if __name__ == "__main__":
    main()
