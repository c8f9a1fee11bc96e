// `ipvl run` end to end with the system's bash and a fake userland.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import net from "node:net";
import { dirname } from "node:path";
import { describe, test } from "node:test";
import { runScript, SIMULATED_TOOLS } from "../../src/cli/run/index.ts";
import { FakeUserland } from "./fake-userland.ts";
import { Collector, runFake } from "./harness.ts";

describe("ipvl run: exit codes and output streams", () => {
  test("the script's exit code is the run's", async () => {
    const r = await runFake("echo hi\nexit 7\n");
    assert.equal(r.code, 7);
    assert.equal(r.stdout, "hi\n");
  });

  test("arguments reach the script", async () => {
    const r = await runFake('echo "$#:$1:$2"\n', { args: ["a b", "c"] });
    assert.equal(r.stdout, "2:a b:c\n");
  });

  test("a tool's exit code is propagated, also from a throwing userland (70)", async () => {
    const r = await runFake(
      "ip exit 3; echo rc=$?\nip exit 0; echo rc=$?\nip bogus 2>/dev/null; echo rc=$?\nip throw; echo rc=$?\n",
    );
    assert.equal(r.stdout, "rc=3\nrc=0\nrc=1\nrc=70\n");
    assert.match(r.stderr, /^ipvl: ip: internal error: fake userland exploded$/m);
  });

  test("stdout and stderr stay apart: 2>/dev/null, 2>&1, >/dev/null", async () => {
    const r = await runFake(
      [
        "ip bogus 2>/dev/null",
        "echo ---",
        "ip bogus 2>&1 | sed 's/^/piped: /'",
        "ip link show >/dev/null",
        "ip bogus",
      ].join("\n"),
    );
    assert.equal(r.stdout, '---\npiped: Object "bogus" is unknown, try "ip help".\n');
    assert.equal(r.stderr, 'Object "bogus" is unknown, try "ip help".\n');
  });

  test("stdout/stderr interleaving of one tool is kept with 2>&1", async () => {
    const r = await runFake("ip mixed 2>&1\n");
    assert.equal(r.stdout, "out1\nerr1\nout2\n");
  });

  test("output without a final newline, and non-ASCII text, pass through unchanged", async () => {
    const r = await runFake('ip partial; echo "|"\nip args "héllo wörld ✓" ""\n');
    assert.equal(r.stdout, "no newline|\n[héllo wörld ✓]\n[]\n");
  });

  test("arguments with spaces, newlines, backslashes and 0x1f arrive intact", async () => {
    const weird = ["a b", "line1\nline2", "back\\slash\\n", "unit\x1fsep", "-", "*", "$HOME"];
    const r = await runFake('ip args "$@"\n', { args: weird });
    const call = r.userland.calls.find((c) => c.argv[1] === "args")!;
    assert.deepEqual(call.argv.slice(2), weird);
    assert.equal(call.tool, "ip");
    assert.equal(call.argv[0], "ip");
  });

  test("pipes and $(...) substitutions", async () => {
    const r = await runFake(
      [
        'n=$(ip link show | grep -c eth0); echo "n=$n"',
        'echo "lines: $(ip link show | wc -l)"',
        "ip link show | sort -r | head -1",
      ].join("\n"),
    );
    assert.equal(r.stdout, "n=1\nlines: 2\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> netns=-\n");
  });

  test("output ordering between shim output and plain echo", async () => {
    const r = await runFake(
      "echo a\nip args b\necho c\nip args d; echo e\n{ echo f; ip args g; echo h; } | cat\n",
    );
    assert.equal(r.stdout, "a\n[b]\nc\n[d]\ne\nf\n[g]\nh\n");
  });

  test("cwd and the caller's environment reach the userland", async () => {
    const r = await runFake("mkdir sub && cd sub && FOO=bar ip args x\n");
    const call = r.userland.calls.find((c) => c.argv[1] === "args")!;
    assert.equal(call.cwd, `${r.dir}/sub`);
    assert.equal(call.env.FOO, "bar");
  });
});

describe("ipvl run: namespaces and /sys", () => {
  test("ip netns exec NS CMD runs CMD in NS; ip -n is left to the userland", async () => {
    const r = await runFake(
      [
        "ip netns add ns0",
        "ip netns exec ns0 ip link show | head -1",
        "ip netns exec ns0 bash -c 'ip link show | tail -1'",
        "ip netns exec ns0 sh -c 'ping -c1 10.0.0.1'",
        "ip -n ns0 link show | head -1",
        "ip link show | head -1",
      ].join("\n"),
    );
    assert.equal(
      r.stdout,
      [
        "1: lo: <LOOPBACK,UP,LOWER_UP> netns=ns0",
        "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> netns=ns0",
        "PING 10.0.0.1 (netns ns0)",
        "1: lo: <LOOPBACK,UP,LOWER_UP> netns=ns0",
        "1: lo: <LOOPBACK,UP,LOWER_UP> netns=-",
        "",
      ].join("\n"),
    );
    const ping = r.userland.calls.find((c) => c.tool === "ping")!;
    assert.equal(ping.netns, "ns0");
    assert.equal(r.userland.calls.find((c) => c.argv[1] === "-n")!.netns, null);
  });

  test("ip netns exec errors are iproute2's", async () => {
    const r = await runFake(
      [
        "ip netns exec nosuch true; echo rc=$?",
        "ip netns exec; echo rc=$?",
        "ip netns add ns0",
        "ip netns exec ns0; echo rc=$?",
        "ip netns exec ns0 no-such-command-xyz; echo rc=$?",
        "ip netns exec ns0 /etc/passwd; echo rc=$?",
        "ip netns exec ns0 true; echo rc=$?",
      ].join("\n"),
    );
    assert.equal(r.stdout, "rc=255\nrc=1\nrc=1\nrc=1\nrc=1\nrc=0\n");
    assert.equal(
      r.stderr,
      [
        'Cannot open network namespace "nosuch": No such file or directory',
        "No netns name specified",
        "No command specified",
        'exec of "no-such-command-xyz" failed: No such file or directory',
        'exec of "/etc/passwd" failed: Permission denied',
        "",
      ].join("\n"),
    );
  });

  test("ip netns exec checks namespaces in order with the commands before it", async () => {
    const r = await runFake(
      "ip netns add a; ip netns exec a true && echo ok1\nip netns del a; ip netns exec a true || echo gone\n",
    );
    assert.equal(r.stdout, "ok1\ngone\n");
  });

  test("cat of /sys paths goes to cat-sys, with the namespace; other cats are the system's", async () => {
    const r = await runFake(
      [
        "ip netns add ns0",
        "cat /sys/class/net/eth0/address",
        "ip netns exec ns0 cat /sys/class/net/ipvl0/dev_id",
        'echo "mac=$(cat /sys/class/net/eth0/address)"',
        "cat /sys/class/net/ipvl0/dev_id; echo rc=$?",
        "echo plain > f.txt; cat f.txt; echo hello | cat",
        "cat /sys/class/net/eth0/address f.txt; echo rc=$?",
      ].join("\n"),
    );
    assert.equal(r.stdout, "02:00:00:00:00:02\n0x1\nmac=02:00:00:00:00:02\nrc=1\nplain\nhello\nrc=1\n");
    assert.equal(
      r.stderr,
      "cat: /sys/class/net/ipvl0/dev_id: No such file or directory\n" +
        "ipvl: cat: cannot mix /sys or /proc/sys files with other files in one command\n",
    );
    const sys = r.userland.calls.filter((c) => c.tool === "cat-sys");
    assert.deepEqual(
      sys.map((c) => [c.netns, c.argv.join(" ")]),
      [
        [null, "cat /sys/class/net/eth0/address"],
        ["ns0", "cat /sys/class/net/ipvl0/dev_id"],
        [null, "cat /sys/class/net/eth0/address"],
        [null, "cat /sys/class/net/ipvl0/dev_id"],
      ],
    );
  });

  test("[ -e /sys/... ] and test -d/-f go to the userland; other tests stay builtin", async () => {
    const r = await runFake(
      [
        "ip netns add ns0",
        "[ -e /sys/class/net/eth0 ] && echo eth0-yes",
        "[ -e /sys/class/net/ipvlm ] || echo ipvlm-no",
        "[ ! -e /sys/class/net/ipvlm ] && echo ipvlm-not",
        "test -d /sys/class/net/eth0 && echo dir",
        "test -f /sys/class/net/eth0/address && echo file",
        "ip netns exec ns0 test -e /sys/class/net/ipvl0 && echo ns0-ipvl0",
        "ip netns exec ns0 bash -c '[ -e /sys/class/net/eth0 ] || echo ns0-no-eth0'",
        "[ -e /tmp ] && [ 1 -lt 2 ] && test -n x && echo builtin-ok",
        "[ -e /sys/class/net/eth0 -a -e /tmp ]; echo rc=$?",
      ].join("\n"),
    );
    assert.equal(
      r.stdout,
      "eth0-yes\nipvlm-no\nipvlm-not\ndir\nfile\nns0-ipvl0\nns0-no-eth0\nbuiltin-ok\nrc=2\n",
    );
    assert.match(r.stderr, /only "\[!\] -e\|-f\|-d PATH" is supported/);
    const tests = r.userland.calls
      .filter((c) => c.tool === "cat-sys")
      .map((c) => `${c.netns ?? "-"} ${c.argv.join(" ")}`);
    assert.deepEqual(tests, [
      "- test -e /sys/class/net/eth0",
      "- test -e /sys/class/net/ipvlm",
      "- test -e /sys/class/net/ipvlm",
      "- test -d /sys/class/net/eth0",
      "- test -f /sys/class/net/eth0/address",
      "ns0 test -e /sys/class/net/ipvl0",
      "ns0 test -e /sys/class/net/eth0",
    ]);
  });
});

describe("ipvl run: stdin, sleep, background and signals", () => {
  test("stdin is forwarded when the tool reads it (nft -f - <<EOF, ip -batch -)", async () => {
    const r = await runFake(
      [
        "nft -f - <<'EOF'",
        "table inet count {",
        '  chain input { type filter hook input priority 0; counter comment "in\\\\put"; }',
        "}",
        "EOF",
        "printf 'link show\\naddr show\\n' | ip -batch -",
        "echo 'not for ip' | ip link show | head -1",
      ].join("\n"),
    );
    assert.equal(
      r.stdout,
      [
        "nft read 3 lines",
        "table inet count {",
        '  chain input { type filter hook input priority 0; counter comment "in\\\\put"; }',
        "}",
        "batch: link show",
        "batch: addr show",
        "1: lo: <LOOPBACK,UP,LOWER_UP> netns=-",
        "",
      ].join("\n"),
    );
    const show = r.userland.calls.find((c) => c.argv.join(" ") === "ip link show")!;
    assert.equal(show.stdin, "");
  });

  test("sleep advances the userland's clock instead of waiting; bad arguments fail like coreutils", async () => {
    const started = performance.now();
    const r = await runFake(
      "sleep 1.5\nsleep 2m 1\nsleep 30; echo rc=$?\nLC_ALL=C sleep abc; echo rc=$?\nsleep; echo rc=$?\nsleep -1\n",
    );
    assert.ok(performance.now() - started < 20_000);
    assert.deepEqual(r.userland.slept, [1.5, 121, 30]);
    assert.equal(r.stdout, "rc=0\nrc=1\nrc=1\n");
    assert.equal(
      r.stderr,
      "sleep: invalid time interval 'abc'\nTry 'sleep --help' for more information.\n" +
        "sleep: missing operand\nTry 'sleep --help' for more information.\n" +
        "sleep: invalid option -- '1'\nTry 'sleep --help' for more information.\n",
    );
  });

  test("background tcpdump -w: file exists once registered; kill -INT + wait give its final stderr", async () => {
    const r = await runFake(
      [
        "ip netns add ext",
        "rm -f cap.pcap",
        "ip netns exec ext tcpdump -i ext0 --immediate-mode -nn -w cap.pcap 'icmp' 2>td.err &",
        "TD=$!",
        "t=0; while [ ! -e cap.pcap ] && [ $t -lt 50 ]; do sleep 0.1; t=$((t + 1)); done; sleep 0.2",
        '[ -e cap.pcap ] && echo "capture file is there"',
        "ip netns exec ext ping -c1 10.0.0.10 >/dev/null",
        "sleep 0.05",
        "kill -INT $TD; wait $TD; echo tcpdump-rc=$?",
        "grep -c 'packets captured' td.err",
        "head -1 td.err",
      ].join("\n"),
    );
    assert.equal(
      r.stdout,
      "capture file is there\ntcpdump-rc=0\n1\ntcpdump: listening on ext0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n",
    );
    const tools = r.userland.calls.map((c) => c.tool);
    // The ping came after the capture was registered.
    assert.ok(tools.indexOf("tcpdump") < tools.indexOf("ping"));
    assert.equal(r.userland.calls.find((c) => c.tool === "tcpdump")!.netns, "ext");
  });

  test("a background tcpdump without -w streams lines while the script goes on", async () => {
    const r = await runFake(
      [
        "tcpdump -i eth0 > lines.txt 2>/dev/null &",
        "TD=$!",
        "n=0; while [ $(wc -l < lines.txt) -lt 3 ] && [ $n -lt 400 ]; do ip link show >/dev/null; n=$((n+1)); done",
        'echo "saw $(head -1 lines.txt)"',
        "kill -INT $TD; wait $TD; echo rc=$?",
      ].join("\n"),
    );
    assert.equal(r.stdout, "saw packet 1 on eth0 netns=-\nrc=0\n");
  });

  test("SIGTERM also stops a background tool; stats go to its stderr", async () => {
    const r = await runFake(
      [
        "tcpdump -i x -w cap 2>err.txt &",
        "while [ ! -e cap ]; do /bin/sleep 0.01; done",
        "kill $!; wait $!; echo rc=$?",
        "tail -3 err.txt | head -1",
      ].join("\n"),
    );
    assert.match(r.stdout, /^rc=0\n\d+ packets captured\n$/);
  });

  test("sleep inf &: kill -INT is ignored as by coreutils; kill -TERM kills it (143)", async () => {
    const r = await runFake(
      [
        "sleep inf &",
        "P=$!",
        "while [ ! -e sleep-inf.started ]; do /bin/sleep 0.01; done",
        "kill -INT $P; /bin/sleep 0.1",
        "kill -0 $P && echo still-sleeping",
        "kill $P; wait $P; echo rc=$?",
      ].join("\n"),
    );
    assert.equal(r.stdout, "still-sleeping\nrc=143\n");
  });

  test("a tool that reports death by the signal (128+n) makes its shim die of it", async () => {
    // The inner bash reports a foreground child killed by SIGTERM ("Terminated"); a plain
    // exit status 143 would go unreported.
    const r = await runFake(
      [
        "bash -c 'sleep inf; echo after=$?' &",
        "P=$!",
        "while [ ! -e sleep-inf.started ]; do /bin/sleep 0.01; done",
        'for s in /proc/[0-9]*/stat; do read -r pid comm st ppid rest < $s; [ "$ppid" = "$P" ] && kill -TERM $pid; done 2>/dev/null',
        "wait $P",
      ].join("\n"),
    );
    assert.equal(r.stdout, "after=143\n");
    assert.match(r.stderr, /Terminated/);
  });

  test("a tcpdump never stopped is ended with the run, and still prints its stats", async () => {
    const r = await runFake("tcpdump -i eth0 >/dev/null &\nsleep 0.1\necho done\n");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "done\n");
    assert.match(r.stderr, /packets captured/);
  });
});

describe("ipvl run: lifecycle and cost", () => {
  test("a missing script fails like bash (127)", async () => {
    const stderr = new Collector();
    const code = await runScript({
      script: "/nonexistent/dir/x.sh",
      args: [],
      userland: new FakeUserland(),
      stdout: new Collector(),
      stderr,
      stdin: "ignore",
    });
    assert.equal(code, 127);
    assert.match(stderr.text, /\/nonexistent\/dir\/x\.sh: No such file or directory/);
  });

  test("the temp dir and the listening port are gone after the run", async () => {
    const r = await runFake('echo "$IPVL_SHIMS $IPVL_PORT"; ls "$IPVL_SHIMS" | tr "\\n" " "\n');
    const [shims, port] = r.stdout.split("\n")[0]!.split(" ") as [string, string];
    const shimmed = r.stdout.split("\n")[1]!.trim().split(" ");
    for (const tool of [...SIMULATED_TOOLS, "cat", "test", "[", "iptables"])
      assert.ok(shimmed.includes(tool), tool);
    assert.equal(existsSync(dirname(shims)), false);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = net.connect(Number(port), "127.0.0.1", () => resolve(s.destroy()));
        s.on("error", reject);
      }),
    );
  });

  test("many commands in a loop: every one runs, in order; per-command cost", async (t) => {
    const n = 200;
    const r = await runFake(
      [
        "us() { echo $EPOCHREALTIME | tr -d .; }",
        "s=$(us)",
        `for i in $(seq ${n}); do ip args $i >/dev/null; done`,
        "e=$(us)",
        `for i in $(seq ${n}); do /bin/true; done`,
        "f=$(us)",
        `echo "$(( (e - s) / ${n} )) $(( (f - e) / ${n} ))"`,
      ].join("\n"),
    );
    const [shim, base] = r.stdout.trim().split(" ").map(Number) as [number, number];
    t.diagnostic(
      `shim call: ${(shim / 1000).toFixed(2)} ms/call; fork+exec of /bin/true: ${(base / 1000).toFixed(2)} ms`,
    );
    const args = r.userland.calls.filter((c) => c.argv[1] === "args").map((c) => Number(c.argv[2]));
    assert.deepEqual(
      args,
      Array.from({ length: n }, (_, i) => i + 1),
    );
    assert.ok(shim < 100_000, `a shim call took ${shim} us`);
  });

  test("the script can be read from stdin (-)", async () => {
    const { Readable } = await import("node:stream");
    const stdout = new Collector();
    const code = await runScript({
      script: "-",
      args: ["x"],
      userland: new FakeUserland(),
      stdout,
      stderr: new Collector(),
      stdin: Readable.from(["echo from-stdin $1\nip args y\n"]),
    });
    assert.equal(code, 0);
    assert.equal(stdout.text, "from-stdin x\n[y]\n");
  });

  test("host network tools are refused, not run", async () => {
    const r = await runFake("iptables -F; echo rc=$?\nsudo ip link show; echo rc=$?\n");
    assert.equal(r.stdout, "rc=127\nrc=127\n");
    assert.equal(
      r.stderr,
      "ipvl: iptables: not simulated (the host's iptables is not run under ipvl)\n" +
        "ipvl: sudo: not simulated (the host's sudo is not run under ipvl)\n",
    );
    assert.equal(r.userland.calls.length, 0);
  });

  test("extra tools can be added (iperf3)", async () => {
    const r = await runFake("iperf3 -c 10.0.0.1 -t 1\n", { extra: { tools: ["iperf3"] } });
    assert.equal(r.stdout, "iperf3 ran: -c 10.0.0.1 -t 1\n");
  });
});
