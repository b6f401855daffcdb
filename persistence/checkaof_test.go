package persistence

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func checkAOF(args ...string) (string, int) {
	var out bytes.Buffer
	code := CheckAOF(args, &out)
	return out.String(), code
}

func TestCheckAOFSingleFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.aof")
	tests := []struct {
		name, data string
		code       int
		want       []string
		fixedLen   int
	}{
		{"valid", setA + multi + setB + execCmd, 0, []string{"Start checking Old-Style AOF", "diff=0", "AOF " + p + " is valid"}, -1},
		{"truncated", setA + setB[:10], 1, []string{"ok_up_to=27", "diff=10", "is not valid. Use the --fix option"}, len(setA)},
		{"open-multi", setA + multi + setB, 1, []string{"Reached EOF before reading EXEC for MULTI", "ok_up_to=27"}, len(setA)},
		{"garbage", setA + "hello\r\n" + setB, 1, []string{"0x              1b: expected '*'", "ok_up_to=27"}, len(setA)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.WriteFile(p, []byte(tt.data), 0o644)
			out, code := checkAOF(p)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.fixedLen < 0 {
				return
			}
			out, code = checkAOF("--fix", p)
			if code != 0 || !strings.Contains(out, "This will shrink the AOF") || !strings.Contains(out, "Successfully truncated AOF "+p) {
				t.Fatalf("--fix exit %d:\n%s", code, out)
			}
			if n := len(readFile(t, p)); n != tt.fixedLen {
				t.Fatalf("fixed file has %d bytes, want %d", n, tt.fixedLen)
			}
			if out, code := checkAOF(p); code != 0 {
				t.Fatalf("after --fix: exit %d\n%s", code, out)
			}
		})
	}
	if out, code := checkAOF(); code != 1 || !strings.HasPrefix(out, "Usage: cachalot check-aof") {
		t.Fatalf("no args: %d %q", code, out)
	}
	if out, code := checkAOF("--bogus", p); code != 1 || !strings.HasPrefix(out, "Usage:") {
		t.Fatalf("bad flag: %d %q", code, out)
	}
	if out, code := checkAOF(filepath.Join(dir, "missing")); code != 1 || !strings.Contains(out, "Cannot open file") {
		t.Fatalf("missing: %d %q", code, out)
	}
}

func TestCheckAOFManifest(t *testing.T) {
	opts := writeDir(t, setA, setB, setA+setB[:5])
	man := filepath.Join(dirOf(opts), "appendonly.aof.manifest")
	out, code := checkAOF(man)
	if code != 1 || !strings.Contains(out, "Start checking Multi Part AOF") || !strings.Contains(out, "BASE AOF appendonly.aof.1.base.aof is valid") ||
		!strings.Contains(out, "INCR AOF appendonly.aof.1.incr.aof is valid") || !strings.Contains(out, "AOF appendonly.aof.2.incr.aof is not valid") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, code = checkAOF("--fix", man)
	if code != 0 || !strings.Contains(out, "Successfully truncated AOF appendonly.aof.2.incr.aof") || !strings.Contains(out, "All AOF files and manifest are valid") {
		t.Fatalf("--fix exit %d:\n%s", code, out)
	}
	if _, _, err := loadAll(t, opts); err != nil {
		t.Fatalf("load after fix: %v", err)
	}
	// A bad file that is not the last one cannot be fixed.
	opts = writeDir(t, setA[:5], setB)
	out, code = checkAOF("--fix", filepath.Join(dirOf(opts), "appendonly.aof.manifest"))
	if code != 1 || !strings.Contains(out, "Failed to truncate AOF appendonly.aof.1.base.aof because it is not the last file") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// Manifest errors are reported as redis-check-aof does.
	os.WriteFile(man, []byte("file a seq 1 type q\nfile b seq 2 type i\n"), 0o644)
	out, code = checkAOF(man)
	if code != 1 || !strings.Contains(out, "*** FATAL AOF MANIFEST FILE ERROR ***") || !strings.Contains(out, "at line 1") ||
		!strings.Contains(out, "Unknown AOF file type") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// TestCheckAOFAgreesWithRedis compares verdicts and ok_up_to with the real
// redis-check-aof on the same files.
func TestCheckAOFAgreesWithRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-check-aof")
	if err != nil {
		t.Skip("redis-check-aof not installed")
	}
	cases := []string{
		setA + setB,
		setA + setB[:7],
		setA + multi + setB,
		setA + multi + setB + execCmd + setA[:3],
		setA + "*1\r\n$4\r\nPINGxx",
		setA + execCmd,
		multi + multi + execCmd,
	}
	dir := t.TempDir()
	for i, c := range cases {
		p := filepath.Join(dir, "f"+itoa(i)+".aof")
		os.WriteFile(p, []byte(c), 0o644)
		ours, ourCode := checkAOF(p)
		theirs, err := exec.Command(bin, p).CombinedOutput()
		theirCode := 0
		if err != nil {
			theirCode = 1
		}
		field := func(s string) string {
			i := strings.Index(s, "ok_up_to=")
			if i < 0 {
				return ""
			}
			return strings.SplitN(s[i:], ",", 2)[0]
		}
		if ourCode != theirCode || field(ours) != field(string(theirs)) {
			t.Errorf("case %d: ours exit %d %s, redis-check-aof exit %d %s\nours:\n%s\ntheirs:\n%s",
				i, ourCode, field(ours), theirCode, field(string(theirs)), ours, theirs)
		}
	}
}
