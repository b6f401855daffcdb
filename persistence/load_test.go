package persistence

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeDir makes an AOF directory with a base and incremental files.
func writeDir(t *testing.T, base string, incrs ...string) Options {
	t.Helper()
	opts := Options{Dir: t.TempDir()}
	dir := dirOf(opts)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	man := "file appendonly.aof.1.base.aof seq 1 type b\n"
	os.WriteFile(filepath.Join(dir, "appendonly.aof.1.base.aof"), []byte(base), 0o644)
	for i, c := range incrs {
		name := "appendonly.aof." + itoa(i+1) + ".incr.aof"
		os.WriteFile(filepath.Join(dir, name), []byte(c), 0o644)
		man += "file " + name + " seq " + itoa(i+1) + " type i\n"
	}
	os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), []byte(man), 0o644)
	return opts
}

const (
	setA    = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
	setB    = "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n"
	multi   = "*1\r\n$5\r\nMULTI\r\n"
	execCmd = "*1\r\n$4\r\nEXEC\r\n"
)

func TestLoadOrderAndMulti(t *testing.T) {
	opts := writeDir(t, "#TS:1700000000\r\n"+setA, multi+setB+"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"+execCmd, "")
	got, st, err := loadAll(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SET a 1", "MULTI", "SET b 2", "INCR n", "EXEC"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("loaded %q, want %q", got, want)
	}
	if st.Files != 3 || st.Commands != 5 || st.Truncated {
		t.Fatalf("stats %+v", st)
	}
}

func TestLoadTruncated(t *testing.T) {
	full := setA + setB
	for cut := len(setA) + 1; cut < len(full); cut++ {
		for _, tolerate := range []bool{true, false} {
			opts := writeDir(t, "", full[:cut])
			opts.LoadTruncated = tolerate
			got, st, err := loadAll(t, opts)
			path := filepath.Join(dirOf(opts), "appendonly.aof.1.incr.aof")
			if !tolerate {
				var le *LoadError
				if !errors.As(err, &le) || !le.Truncated || le.Offset != int64(len(setA)) ||
					!strings.Contains(err.Error(), "check-aof --fix") || !strings.Contains(err.Error(), "aof-load-truncated") {
					t.Fatalf("cut %d: err = %v", cut, err)
				}
				if n := len(readFile(t, path)); n != cut {
					t.Fatalf("file changed without aof-load-truncated: %d bytes", n)
				}
				continue
			}
			if err != nil {
				t.Fatalf("cut %d: %v", cut, err)
			}
			if len(got) != 1 || got[0] != "SET a 1" || !st.Truncated || st.TruncatedAt != int64(len(setA)) {
				t.Fatalf("cut %d: loaded %q, stats %+v", cut, got, st)
			}
			if n := len(readFile(t, path)); n != len(setA) {
				t.Fatalf("cut %d: file not truncated: %d bytes", cut, n)
			}
		}
	}
}

func TestLoadTruncatedAppendAfter(t *testing.T) {
	opts := writeDir(t, "", setA+setB[:5])
	opts.LoadTruncated = true
	a := openT(t, opts)
	if _, err := a.Load(func([][]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	waitT(t, a, a.Append(0, 0, cmd("SET", "c", "3")))
	a.Close()
	got, _, err := loadAll(t, Options{Dir: opts.Dir})
	if err != nil || len(got) != 3 || got[2] != "SET c 3" {
		t.Fatalf("after truncation and append: %q, %v", got, err)
	}
}

func TestLoadTruncatedNotLastFile(t *testing.T) {
	opts := writeDir(t, setA[:10], setB)
	opts.LoadTruncated = true
	if _, _, err := loadAll(t, opts); err == nil || !strings.Contains(err.Error(), "not the last file") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadUnterminatedMulti(t *testing.T) {
	opts := writeDir(t, "", setA+multi+setB)
	opts.LoadTruncated = true
	got, st, err := loadAll(t, opts)
	if err != nil || len(got) != 1 || !st.Truncated || st.TruncatedAt != int64(len(setA)) {
		t.Fatalf("loaded %q, %+v, %v", got, st, err)
	}
	opts = writeDir(t, "", setA+multi+setB)
	if _, _, err := loadAll(t, opts); err == nil {
		t.Fatal("unterminated MULTI loaded without aof-load-truncated")
	}
}

func TestLoadCorruption(t *testing.T) {
	tests := []struct {
		name string
		data string
		off  int
	}{
		{"garbage", setA + "xyz\r\n" + setB, len(setA)},
		{"bad-bulk-prefix", setA + "*3\r\n$3\r\nSET\r\n:1\r\na\r\n" + setB, len(setA) + 13},
		{"bad-crlf", setA + "*1\r\n$4\r\nPINGxx" + setB, len(setA) + 12},
		{"negative-len", setA + "*1\r\n$-1\r\n" + setB, len(setA) + 4},
		{"zero-argc", setA + "*0\r\n" + setB, len(setA)},
		{"nested-multi", multi + multi + execCmd, len(multi)},
		{"exec-without-multi", setA + execCmd, len(setA)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := writeDir(t, "", tt.data)
			opts.LoadTruncated = true
			_, _, err := loadAll(t, opts)
			var le *LoadError
			if !errors.As(err, &le) || le.Truncated || le.Offset != int64(tt.off) || le.File != "appendonly.aof.1.incr.aof" {
				t.Fatalf("err = %#v (%v), want a format error at %d", le, err, tt.off)
			}
			msg := err.Error()
			if !strings.Contains(msg, "cachalot check-aof --fix "+filepath.Join(dirOf(opts), "appendonly.aof.manifest")) ||
				!strings.Contains(msg, "offset "+itoa(tt.off)) {
				t.Fatalf("message %q", msg)
			}
		})
	}
}

func TestLoadApplyError(t *testing.T) {
	opts := writeDir(t, setA+"*1\r\n$5\r\nBOGUS\r\n")
	a := openT(t, opts)
	m := newModel()
	_, err := a.Load(m.apply)
	if err == nil || !strings.Contains(err.Error(), "appendonly.aof.1.base.aof at offset 27") || !strings.Contains(err.Error(), "BOGUS") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	opts := writeDir(t, setA, setB)
	os.Remove(filepath.Join(dirOf(opts), "appendonly.aof.1.base.aof"))
	if _, _, err := loadAll(t, opts); err == nil || !strings.Contains(err.Error(), "doesn't exist") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadProgress(t *testing.T) {
	var big bytes.Buffer
	for i := 0; i < 5000; i++ {
		big.WriteString(setA)
	}
	opts := writeDir(t, big.String())
	a := openT(t, opts)
	if p := a.LoadProgress(); p.Loading {
		t.Fatal("loading before Load")
	}
	var seen LoadProgress
	n := 0
	if _, err := a.Load(func([][]byte) error {
		if n++; n == 2500 {
			seen = a.LoadProgress()
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !seen.Loading || seen.TotalBytes != int64(big.Len()) || seen.LoadedBytes == 0 || seen.Perc() <= 0 || seen.Perc() >= 100 {
		t.Fatalf("progress mid-load %+v", seen)
	}
	if p := a.LoadProgress(); p.Loading || p.LoadedBytes != p.TotalBytes {
		t.Fatalf("progress after load %+v", p)
	}
}

func TestManifestErrors(t *testing.T) {
	tests := []struct {
		data, msg string
	}{
		{"", "Found an empty AOF manifest"},
		{"file a seq 1 type b", "The AOF manifest file contains too long line"},
		{"file a seq 1 type b\n\n", "Invalid AOF manifest file format"},
		{"file a seq 1\n", "Invalid AOF manifest file format"},
		{"file a seq x type b\n", "Invalid AOF manifest file format"},
		{"file a seq 0 type i\n", "Invalid AOF manifest file format"},
		{"file dir/a seq 1 type i\n", "File can't be a path, just a filename"},
		{"file a seq 1 type b\nfile b seq 2 type b\n", "Found duplicate base file information"},
		{"file a seq 2 type i\nfile b seq 2 type i\n", "Found a non-monotonic sequence number"},
		{"file a seq 1 type x\n", "Unknown AOF file type"},
		{"file \"a seq 1 type i\n", "Invalid AOF manifest file format"},
		{"file " + strings.Repeat("a", 1100) + " seq 1 type i\n", "The AOF manifest file contains too long line"},
	}
	for _, tt := range tests {
		_, err := parseManifest([]byte(tt.data))
		var me *ManifestError
		if !errors.As(err, &me) || me.Msg != tt.msg {
			t.Errorf("parseManifest(%.40q) = %v, want %q", tt.data, err, tt.msg)
		}
	}
	// Comments, quoting, extra keys and case are accepted.
	m, err := parseManifest([]byte("# comment\nFILE \"my file\\x41.aof\" SEQ 3 TYPE b extra 1\nfile 'b.aof' seq 4 type i\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.base == nil || m.base.name != "my fileA.aof" || m.base.seq != 3 || len(m.incr) != 1 || m.incr[0].name != "b.aof" {
		t.Fatalf("parsed %+v", m)
	}
	if got, want := string(m.format()), "file \"my fileA.aof\" seq 3 type b\nfile b.aof seq 4 type i\n"; got != want {
		t.Fatalf("format = %q, want %q", got, want)
	}
}

func TestManifestErrorOnOpen(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	os.MkdirAll(dirOf(opts), 0o755)
	os.WriteFile(filepath.Join(dirOf(opts), "appendonly.aof.manifest"), []byte("file a seq 1 type z\n"), 0o644)
	if _, err := Open(opts); err == nil || !strings.Contains(err.Error(), "Unknown AOF file type") {
		t.Fatalf("Open = %v", err)
	}
}
