package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parseInfo splits INFO text into its section titles (in order) and fields,
// failing the test on any line that is not CRLF-terminated or well formed.
func parseInfo(t *testing.T, text string) (titles []string, fields map[string]string) {
	t.Helper()
	fields = make(map[string]string)
	if text == "" {
		return nil, fields
	}
	if !strings.HasSuffix(text, "\r\n") || strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\n") {
		t.Fatalf("INFO lines must end in CRLF: %q", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "# "):
			if i > 0 && lines[i-1] != "" {
				t.Errorf("section %q not preceded by a blank line", l)
			}
			titles = append(titles, l[2:])
		case l == "":
			if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "# ") {
				t.Errorf("blank line %d not followed by a section header", i)
			}
		default:
			k, v, ok := strings.Cut(l, ":")
			if !ok || k == "" {
				t.Errorf("malformed INFO line %q", l)
				continue
			}
			if _, dup := fields[k]; dup {
				t.Errorf("field %q twice", k)
			}
			fields[k] = v
		}
	}
	return titles, fields
}

func TestInfoSectionSelection(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := scDial(t, addr)
	c.do("SET", "k", "v")
	c.do("GET", "k")
	all := []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
		"Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace"}
	def := []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
		"Errorstats", "Cluster", "Keyspace"}
	cases := []struct {
		args []string
		want []string
	}{
		{nil, def},
		{[]string{"default"}, def},
		{[]string{"all"}, all},
		{[]string{"EVERYTHING"}, all},
		{[]string{"keyspace", "server"}, []string{"Server", "Keyspace"}},
		{[]string{"CPU"}, []string{"CPU"}},
		{[]string{"default", "commandstats"}, []string{"Server", "Clients", "Memory", "Persistence", "Stats",
			"Replication", "CPU", "Modules", "Commandstats", "Errorstats", "Cluster", "Keyspace"}},
		{[]string{"nosuchsection"}, nil},
		{[]string{"latencystats"}, []string{"Latencystats"}},
	}
	for _, tc := range cases {
		text, ok := c.do(append([]string{"INFO"}, tc.args...)...).(string)
		if !ok {
			t.Fatalf("INFO %q: not a string", tc.args)
		}
		titles, _ := parseInfo(t, text)
		if strings.Join(titles, ",") != strings.Join(tc.want, ",") {
			t.Errorf("INFO %q sections = %v, want %v", tc.args, titles, tc.want)
		}
	}

	// RESP3: a verbatim string of format txt.
	c.do("HELLO", "3")
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.nc.Write(encodeRESP([]byte("INFO"), []byte("cluster"))); err != nil {
		t.Fatal(err)
	}
	head, _ := c.br.ReadString('\n')
	body, _ := c.br.ReadString('\n')
	if head != "=34\r\n" || body != "txt:# Cluster\r\n" {
		t.Errorf("RESP3 INFO cluster starts %q %q", head, body)
	}
}

func TestInfoFields(t *testing.T) {
	_, addr, _ := startTestServer(t, nil)
	c := scDial(t, addr)
	_, f := parseInfo(t, c.do("INFO", "everything").(string))
	checks := []struct {
		field string
		re    string
	}{
		{"redis_version", `^7\.2\.4$`},
		{"redis_mode", `^standalone$`},
		{"arch_bits", `^(32|64)$`},
		{"run_id", `^[0-9a-f]{40}$`},
		{"process_id", `^[1-9][0-9]*$`},
		{"tcp_port", `^[0-9]+$`},
		{"server_time_usec", `^[0-9]{16}$`},
		{"uptime_in_seconds", `^[0-9]+$`},
		{"hz", `^10$`},
		{"configured_hz", `^10$`},
		{"connected_clients", `^1$`},
		{"maxclients", `^10000$`},
		{"blocked_clients", `^0$`},
		{"used_memory", `^[0-9]+$`},
		{"used_memory_human", `^[0-9.]+[BKMGTP]$`},
		{"used_memory_rss", `^[0-9]+$`},
		{"used_memory_peak", `^[0-9]+$`},
		{"maxmemory", `^0$`},
		{"maxmemory_human", `^0B$`},
		{"maxmemory_policy", `^noeviction$`},
		{"mem_fragmentation_ratio", `^[0-9]+\.[0-9]{2}$`},
		{"go_heap_alloc_bytes", `^[0-9]+$`},
		{"go_goroutines", `^[0-9]+$`},
		{"loading", `^0$`},
		{"aof_enabled", `^0$`},
		{"rdb_last_bgsave_status", `^ok$`},
		{"instantaneous_ops_per_sec", `^[0-9]+$`},
		{"evicted_keys", `^0$`},
		{"role", `^master$`},
		{"connected_slaves", `^0$`},
		{"master_replid", `^[0-9a-f]{40}$`},
		{"master_repl_offset", `^0$`},
		{"used_cpu_sys", `^[0-9]+\.[0-9]{6}$`},
		{"used_cpu_user", `^[0-9]+\.[0-9]{6}$`},
		{"cluster_enabled", `^0$`},
	}
	for _, ch := range checks {
		v, ok := f[ch.field]
		if !ok {
			t.Errorf("INFO lacks %s", ch.field)
			continue
		}
		if !regexp.MustCompile(ch.re).MatchString(v) {
			t.Errorf("%s:%s does not match %s", ch.field, v, ch.re)
		}
	}
	if f["run_id"] == f["master_replid"] {
		t.Error("run_id and master_replid should differ")
	}
	if f["run_id"] != runID {
		t.Error("run_id is not the process's id")
	}
	replID := f["master_replid"]
	c.do("CONFIG", "SET", "hz", "20")
	_, f2 := parseInfo(t, c.do("INFO", "server", "replication").(string))
	if f2["hz"] != "20" || f2["run_id"] != runID || f2["master_replid"] != replID {
		t.Errorf("after CONFIG SET hz: hz %s run_id %s master_replid %s", f2["hz"], f2["run_id"], f2["master_replid"])
	}
}

func infoInt(t *testing.T, f map[string]string, name string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(f[name], 10, 64)
	if err != nil {
		t.Fatalf("%s:%q is not an integer", name, f[name])
	}
	return v
}

func TestInfoCountersMove(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	c := scDial(t, addr)
	_, before := parseInfo(t, c.do("INFO", "everything").(string))

	big := strings.Repeat("x", 100_000)
	c.do("SET", "k", big)
	c.do("SET", "t", "v", "EX", "1000")
	c.do("GET", "k")
	c.do("GET", "missing")
	c.do("GET")       // arity: rejected
	c.do("INCR", "k") // wrong value: failed
	c.do("CONFIG", "GET", "hz")
	c.do("CLIENT", "LIST") // a subcommand, whatever its outcome

	_, after := parseInfo(t, c.do("INFO", "everything").(string))
	grew := []string{"total_commands_processed", "total_net_input_bytes", "total_net_output_bytes",
		"keyspace_hits", "keyspace_misses", "total_error_replies", "used_memory", "used_memory_peak"}
	for _, name := range grew {
		if infoInt(t, after, name) <= infoInt(t, before, name) {
			t.Errorf("%s did not grow: %s -> %s", name, before[name], after[name])
		}
	}
	if d := infoInt(t, after, "used_memory") - infoInt(t, before, "used_memory"); d < 100_000 {
		t.Errorf("used_memory grew by %d after a 100 kB value", d)
	}
	if got := after["db0"]; !regexp.MustCompile(`^keys=2,expires=1,avg_ttl=[0-9]+$`).MatchString(got) {
		t.Errorf("db0:%s", got)
	}
	if got := after["cmdstat_set"]; !regexp.MustCompile(`^calls=2,usec=[0-9]+,usec_per_call=[0-9]+\.[0-9]{2},rejected_calls=0,failed_calls=0$`).MatchString(got) {
		t.Errorf("cmdstat_set:%s", got)
	}
	if got := after["cmdstat_get"]; !strings.HasPrefix(got, "calls=2,") || !strings.HasSuffix(got, ",rejected_calls=1,failed_calls=0") {
		t.Errorf("cmdstat_get:%s", got)
	}
	if got := after["cmdstat_incr"]; got != "" && !strings.HasSuffix(got, ",failed_calls=1") {
		t.Errorf("cmdstat_incr:%s", got)
	}
	if got := after["cmdstat_config|get"]; !strings.HasPrefix(got, "calls=1,") {
		t.Errorf("cmdstat_config|get:%s", got)
	}
	if got := after["errorstat_ERR"]; !strings.HasPrefix(got, "count=") || got == "count=0" {
		t.Errorf("errorstat_ERR:%s", got)
	}
	if after["connected_clients"] != "1" {
		t.Errorf("connected_clients:%s", after["connected_clients"])
	}

	// CONFIG RESETSTAT zeroes what Redis resets.
	if got := c.do("CONFIG", "RESETSTAT"); got != "OK" {
		t.Fatalf("CONFIG RESETSTAT = %#v", got)
	}
	_, reset := parseInfo(t, c.do("INFO", "everything").(string))
	for _, name := range []string{"keyspace_hits", "keyspace_misses", "total_error_replies", "expired_keys", "rejected_connections"} {
		if reset[name] != "0" {
			t.Errorf("after RESETSTAT %s:%s", name, reset[name])
		}
	}
	if _, ok := reset["cmdstat_set"]; ok {
		t.Error("cmdstat_set survived RESETSTAT")
	}
	if _, ok := reset["errorstat_ERR"]; ok {
		t.Error("errorstat_ERR survived RESETSTAT")
	}
	if got := reset["cmdstat_config|resetstat"]; !strings.HasPrefix(got, "calls=1,") {
		t.Errorf("cmdstat_config|resetstat:%s", got)
	}
	if n := infoInt(t, reset, "total_commands_processed"); n < 1 || n > 3 {
		t.Errorf("total_commands_processed after RESETSTAT: %d", n)
	}
	if reset["db0"] == "" {
		t.Error("RESETSTAT must not touch the keyspace")
	}
	_ = srv
}

func TestInstantaneousOpsSampling(t *testing.T) {
	srv, addr, _ := startTestServer(t, nil)
	// One round trip makes sure Serve has registered its listener before
	// the cleanup closes the server.
	scDial(t, addr).do("PING")
	srv.stats.commandsProcessed.Store(0)
	t0 := time.Unix(1_700_000_000, 0)
	srv.sampleMetrics(t0) // first call only records the baseline
	cases := []struct {
		after   time.Duration
		addCmds int64
		addIn   int64
		wantOps int64
	}{
		{100 * time.Millisecond, 1000, 2048, 10000 / metricSamples},
		{50 * time.Millisecond, 500, 0, 10000 / metricSamples}, // too soon: no sample
		{150 * time.Millisecond, 500, 0, (10000 + 5000) / metricSamples},
	}
	now := t0
	for i, tc := range cases {
		srv.stats.commandsProcessed.Add(tc.addCmds)
		srv.stats.netInputBytes.Add(tc.addIn)
		now = now.Add(tc.after)
		srv.sampleMetrics(now)
		if ops, _, _ := srv.instantaneous(); ops != tc.wantOps {
			t.Errorf("step %d: instantaneous ops = %d, want %d", i, ops, tc.wantOps)
		}
	}
	if _, in, _ := srv.instantaneous(); in != 2048*10/metricSamples {
		t.Errorf("instantaneous input = %d B/s", in)
	}
	srv.resetMetrics()
	if ops, in, out := srv.instantaneous(); ops != 0 || in != 0 || out != 0 {
		t.Errorf("after reset: %d %d %d", ops, in, out)
	}
}

func TestBytesToHuman(t *testing.T) {
	cases := []struct {
		n    int64
		want string
	}{
		{0, "0B"}, {1023, "1023B"}, {1024, "1.00K"}, {2063784, "1.97M"},
		{25276514304, "23.54G"}, {10485760, "10.00M"}, {1 << 40, "1.00T"}, {3 << 50, "3.00P"},
	}
	for _, tc := range cases {
		if got := bytesToHuman(tc.n); got != tc.want {
			t.Errorf("bytesToHuman(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
