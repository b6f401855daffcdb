package persistence

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoad feeds random bytes as an incremental file and as a manifest: the
// loader never panics; it loads, or refuses with a clean error.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(setA+setB), false)
	f.Add([]byte(setA+setB[:9]), true)
	f.Add([]byte(multi+setA+execCmd+multi+setB), true)
	f.Add([]byte("#TS:1\r\n"+setA+"*2\r\n$999999999\r\n"), true)
	f.Add([]byte("*99999999\r\n$1\r\na\r\n"), false)
	f.Add([]byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, truncated bool) {
		for _, asManifest := range []bool{false, true} {
			opts := Options{Dir: t.TempDir(), LoadTruncated: truncated}
			dir := dirOf(opts)
			os.MkdirAll(dir, 0o755)
			if asManifest {
				os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), data, 0o644)
			} else {
				os.WriteFile(filepath.Join(dir, "appendonly.aof.1.incr.aof"), data, 0o644)
				os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), []byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), 0o644)
			}
			a, err := Open(opts)
			if err != nil {
				continue // refused cleanly
			}
			n := 0
			st, err := a.Load(func(argv [][]byte) error {
				if len(argv) == 0 {
					t.Fatal("empty argv")
				}
				n++
				return nil
			})
			a.Close()
			if err != nil {
				var le *LoadError
				if !asManifest && !errors.As(err, &le) {
					t.Fatalf("load error of an unexpected kind: %v", err)
				}
				continue
			}
			if int64(n) != st.Commands {
				t.Fatalf("applied %d, stats say %d", n, st.Commands)
			}
			if !asManifest {
				// What loaded is valid for check-aof too.
				b, _ := os.ReadFile(filepath.Join(dir, "appendonly.aof.1.incr.aof"))
				if pos, _, msg := scanValid(bytesReader(b), int64(len(b))); pos != int64(len(b)) {
					t.Fatalf("loaded file has an invalid tail at %d: %s", pos, msg)
				}
			}
		}
	})
}

// FuzzManifest: parsing never panics, and what parses formats to a
// manifest that parses to the same files.
func FuzzManifest(f *testing.F) {
	f.Add([]byte("file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"))
	f.Add([]byte("file \"a b\\x00\" seq 2 type h\nfile 'x\\'y' seq 3 type i\n"))
	f.Add([]byte("# c\nfile a seq -1 type i extra \"\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			return
		}
		out := m.format()
		if len(out) == 0 {
			return // only comments
		}
		m2, err := parseManifest(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the manifest: %+v vs %+v (%q)", m, m2, out)
		}
	})
}
