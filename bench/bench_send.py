"""Benchmark `mailer send` against mailmerge and a bare aiosmtplib loop (not a test).

A 2-language statement goes to N fictional organizations (one address each,
half English, half Serbian Latin) through an aiosmtpd sink running in a separate
process on loopback. Three senders are timed on the same sink, same recipients:

  mailer     the real `mailer send SLUG --rate unlimited` in a subprocess
             (rendering, SQLite state with synchronous=FULL, everything);
             its peak RSS is read with os.wait4.
  mailmerge  the mailmerge package (template + CSV + config, no auth,
             --no-dry-run --no-limit).
  bare       aiosmtplib over 4 connections sending messages built beforehand.
  ceiling    the bare loop with a 6-line message: about the most any sender can
             get through this sink, whose per-message work (four commands,
             then the message line by line, in Python) bounds every sender.

"sink busy" is the sink's CPU time over the wall time of the best bare run
(Linux, from /proc): near 100 % means the sink, not the sender, sets the pace,
so no sender of the same messages can do much better than the bare loop.

With --attachment-kb N every message also carries one N kB file (statement.toml
``attachments``; mailmerge is skipped): the sink's parsing of the file's lines then
sets the pace, so compare mailer with bare, which sends the same messages.
bench_render.py measures what the file costs mailer itself per message.

Usage: python bench/bench_send.py [--sizes 5000,20000] [--repeat 3] [--skip-mailmerge]
                                  [--attachment-kb 200]
Targets: mailer >= 5x mailmerge, >= 70 % of bare, peak RSS <= 100 MB at 20,000.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATEMENT = ROOT / "mailer" / "examples" / "statements" / "peace-statement"
SENDER = "intl@party.example.org"


# ----------------------------------------------------------------- the sink


def sink(port: int) -> None:
    """Accept everything, keep nothing: an MTA that costs as little as aiosmtpd can."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:
            return "250 2.0.0 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 where /proc is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_sink() -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"
    return process, port


# ----------------------------------------------------------- the recipients


def make_project(folder: Path, n: int, attachment_kb: int = 0) -> list[tuple[str, str, str]]:
    """mailer init, N organizations imported, a 2-language campaign 'bench' (with one
    file of ``attachment_kb`` kB when not 0)."""
    run_cli(folder, "init")
    statement = folder / "templates" / "bench"
    statement.mkdir(parents=True)
    files = ""
    if attachment_kb:
        (statement / "poster.pdf").write_bytes(os.urandom(attachment_kb * 1000))
        files = 'attachments = ["poster.pdf"]\n'
    ahead = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 60 * 86400))  # never past
    (statement / "statement.toml").write_text(
        'title = "Joint statement for peace"\nkind = "signon"\ndefault_language = "en"\n'
        f"deadline = {ahead}\n{files}"
    )
    for lang in ("en", "sr-Latn"):
        shutil.copy(STATEMENT / f"{lang}.md", statement / f"{lang}.md")
    people = [
        (
            f"Fictional Workers' Party {i}",
            f"intl{i}@org{i}.example.org",
            "en" if i % 2 else "sr-Latn",
        )
        for i in range(n)
    ]
    with open(folder / "orgs.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "country", "languages", "emails"])
        for name, email, lang in people:
            w.writerow([name, "GR", lang, email])
    run_cli(folder, "org", "import", "orgs.csv")
    run_cli(folder, "campaign", "new", "bench", "--statement", "templates/bench")
    return people


def run_cli(folder: Path, *args: str) -> None:
    """Run one set-up command of the CLI in ``folder``."""
    subprocess.run(
        [sys.executable, "-m", "mailer", *args],
        cwd=folder,
        env={**os.environ, "MAILER_SENDER_ADDRESS": SENDER},
        check=True,
        capture_output=True,
    )


# ---------------------------------------------------------------- the runs


# Measures its child alone: a child forked straight from this (big) process would
# report this process's peak too, since Linux keeps the larger of the two over exec.
PEAK_WRAPPER = (
    "import os, subprocess, sys; p = subprocess.Popen(sys.argv[2:]);"
    " _, status, usage = os.wait4(p.pid, 0);"
    " open(sys.argv[1], 'w').write(str(usage.ru_maxrss));"
    " sys.exit(os.waitstatus_to_exitcode(status))"
)


def run_mailer(folder: Path, port: int) -> tuple[float, float, dict]:
    """Seconds, peak RSS in MB and the --json summary of `mailer send`."""
    env = {
        **os.environ,
        "MAILER_SENDER_ADDRESS": SENDER,
        "MAILER_SMTP_URL": f"smtp://127.0.0.1:{port}",
    }
    peak_file = folder / "peak.txt"
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PEAK_WRAPPER,
            str(peak_file),
            sys.executable,
            "-m",
            "mailer",
            "send",
            "bench",
            "--rate",
            "unlimited",
            "--json",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    seconds = time.perf_counter() - started
    return seconds, int(peak_file.read_text()) / 1024, json.loads(done.stdout)


def run_mailmerge(folder: Path, port: int, people: list[tuple[str, str, str]]) -> float:
    work = folder / "mailmerge"
    work.mkdir()
    (work / "server.conf").write_text(
        f"[smtp_server]\nhost = 127.0.0.1\nport = {port}\nsecurity = Never\n"
    )
    body_en = (
        (STATEMENT / "en.md")
        .read_text()
        .split("---", 2)[2]
        .replace("{{ org.name }}", "{{name}}")
        .replace("{{ campaign.deadline }}", "10 December 2026")
    )
    (work / "template.txt").write_text(
        f"TO: {{{{email}}}}\nSUBJECT: Joint statement for peace\nFROM: {SENDER}\n"
        f"Content-Language: {{{{lang}}}}\n\nDear comrades of {{{{name}}}},\n{body_en}"
    )
    with open(work / "db.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email", "name", "lang"])
        for name, email, lang in people:
            w.writerow([email, name, lang])
    started = time.perf_counter()
    subprocess.run(
        [
            "mailmerge",
            "--template",
            "template.txt",
            "--database",
            "db.csv",
            "--config",
            "server.conf",
            "--no-dry-run",
            "--no-limit",
            "--output-format",
            "raw",
        ],
        cwd=work,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def prebuilt_messages(folder: Path, people: list[tuple[str, str, str]]) -> list[bytes]:
    """The same messages mailer sends, rendered before the clock starts."""
    from mailer.campaigns import audience, get_campaign
    from mailer.config import load_settings
    from mailer.db import open_db
    from mailer.render import build_factory
    from mailer.tokens import message_id, new_token

    settings = load_settings(cwd=folder, env={"MAILER_SENDER_ADDRESS": SENDER})
    db = open_db(settings.path("db.path"))
    campaign = get_campaign(db, "bench")
    factory = build_factory(settings, campaign)
    out = []
    for r in audience(db, campaign):
        token = new_token()
        out.append(
            factory.build(
                r,
                lang=factory.language_for(r.org),
                token=token,
                message_id=message_id(token, "bench", SENDER),
            )
        )
    db.close()
    return out


TINY = (
    f"From: {SENDER}\r\nTo: x@example.org\r\nSubject: ceiling\r\n"
    "Message-ID: <ceiling@bench.example.org>\r\n\r\nThe smallest message.\r\n"
).encode()


def run_bare(port: int, messages: list[bytes], recipients: list[str]) -> float:
    """Seconds for the bare aiosmtplib loop to send ``messages``."""
    import aiosmtplib

    async def connection(share: list[tuple[bytes, str]]) -> None:
        smtp = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=port, start_tls=False, local_hostname="bench.localhost"
        )
        await smtp.connect()
        for body, rcpt in share:
            await smtp.sendmail(SENDER, [rcpt], body)
        await smtp.quit()

    async def main() -> None:
        pairs = list(zip(messages, recipients, strict=True))
        await asyncio.gather(*(connection(pairs[i::4]) for i in range(4)))

    started = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - started


# ------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="5000,20000")
    parser.add_argument("--skip-mailmerge", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of mailer and bare; best kept")
    parser.add_argument("--attachment-kb", type=int, default=0, help="one file of this size")
    args = parser.parse_args()
    if args.sink:
        sink(args.sink)
        return
    sys.path.insert(0, str(ROOT))
    rows = []
    sink_process, port = start_sink()
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            mailmerge = not args.skip_mailmerge and not args.attachment_kb
            rows.append(
                measure(n, port, sink_process.pid, args.repeat, mailmerge, args.attachment_kb)
            )
    finally:
        sink_process.stdin.close()
        sink_process.wait()
    print(
        f"{'recipients':>10} {'mailer/s':>9} {'mailmerge/s':>11} {'bare/s':>8} "
        f"{'mailer x mm':>11} {'bare x mm':>9} {'% of bare':>9} {'sink busy':>9} "
        f"{'peak MB':>8} {'ceiling/s':>9}"
    )
    for r in rows:
        merge = r["mailmerge"]
        times = (f"{r['mailer'] / merge:.1f}", f"{r['bare'] / merge:.1f}") if merge else ("-", "-")
        merge_text = f"{merge:.0f}" if merge else "-"  # one run: far from the others
        print(
            f"{r['n']:>10} {r['mailer']:>9.0f} {merge_text:>11} {r['bare']:>8.0f} "
            f"{times[0]:>11} {times[1]:>9} {100 * r['mailer'] / r['bare']:>8.0f}% "
            f"{100 * r['sink_busy']:>8.0f}% {r['peak']:>8.1f} {r['ceiling']:>9.0f}"
        )


def measure(
    n: int, port: int, sink_pid: int, repeat: int, mailmerge: bool, attachment_kb: int = 0
) -> dict:
    """Best of ``repeat`` runs of mailer, bare and ceiling (the machine is shared, and
    interference only ever slows a run down); mailmerge once, being far slower."""
    best: dict = {"n": n, "mailer": 0.0, "bare": 0.0, "ceiling": 0.0, "peak": 0.0}
    best.update(mailmerge=None, sink_busy=0.0)
    for attempt in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
            folder = Path(tmp)
            people = make_project(folder, n, attachment_kb)
            seconds, run_peak, summary = run_mailer(folder, port)
            assert summary["sent"] == n, summary
            best["mailer"] = max(best["mailer"], n / seconds)
            best["peak"] = max(best["peak"], run_peak)
            messages = prebuilt_messages(folder, people)
            recipients = [p[1] for p in people]
            busy_before = cpu_seconds(sink_pid)
            seconds = run_bare(port, messages, recipients)
            if n / seconds > best["bare"]:
                best["bare"] = n / seconds
                best["sink_busy"] = (cpu_seconds(sink_pid) - busy_before) / seconds
            del messages
            best["ceiling"] = max(best["ceiling"], n / run_bare(port, [TINY] * n, recipients))
            if attempt == 0 and mailmerge:
                best["mailmerge"] = n / run_mailmerge(folder, port, people)
    return best


if __name__ == "__main__":
    main()
