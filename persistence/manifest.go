package persistence

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// The manifest is Redis 7's: one line per file,
//
//	file appendonly.aof.1.base.aof seq 1 type b
//	file appendonly.aof.1.incr.aof seq 1 type h
//	file appendonly.aof.2.incr.aof seq 2 type i
//
// the base first (at most one), then history files (left over from a rewrite,
// to be deleted), then the incremental files in sequence order. Names that
// need it are written quoted with C-style escapes (sdscatrepr) and read back
// with sdssplitargs's rules.

// File types in the manifest.
const (
	typeBase = 'b'
	typeHist = 'h'
	typeIncr = 'i'
)

// manifestMaxLine is Redis's MANIFEST_MAX_LINE.
const manifestMaxLine = 1024

// aofFile is one manifest line.
type aofFile struct {
	name string
	seq  int64
	typ  byte
}

// manifest is the parsed manifest.
type manifest struct {
	base    *aofFile
	hist    []aofFile
	incr    []aofFile
	baseSeq int64 // sequence of the current base (0: none yet)
	incrSeq int64 // highest incremental sequence
}

// clone deep-copies m.
func (m *manifest) clone() *manifest {
	c := &manifest{baseSeq: m.baseSeq, incrSeq: m.incrSeq}
	if m.base != nil {
		b := *m.base
		c.base = &b
	}
	c.hist = append([]aofFile(nil), m.hist...)
	c.incr = append([]aofFile(nil), m.incr...)
	return c
}

// ManifestError is a manifest Redis would refuse, with its messages.
type ManifestError struct {
	Line int    // 1-based line number, 0 when not about one line
	Text string // the offending line, trimmed
	Msg  string // Redis's message, e.g. "Invalid AOF manifest file format"
}

func (e *ManifestError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (manifest line %d: '%s')", e.Msg, e.Line, e.Text)
	}
	return e.Msg
}

// parseManifest reads a manifest exactly as Redis 7's aofLoadManifestFromFile.
func parseManifest(data []byte) (*manifest, error) {
	m := &manifest{}
	var maxSeq int64
	linenum := 0
	for len(data) > 0 {
		// fgets with a buffer of MANIFEST_MAX_LINE+1 bytes.
		n := bytes.IndexByte(data, '\n') + 1
		if n == 0 || n > manifestMaxLine {
			n = min(len(data), manifestMaxLine)
		}
		chunk := data[:n]
		data = data[n:]
		linenum++
		if chunk[0] == '#' {
			continue
		}
		if chunk[len(chunk)-1] != '\n' {
			return nil, &ManifestError{Msg: "The AOF manifest file contains too long line"}
		}
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			chunk = chunk[:i] // C strings end at NUL
		}
		line := strings.Trim(string(chunk), " \t\r\n")
		bad := func(msg string) error { return &ManifestError{Line: linenum, Text: line, Msg: msg} }
		if line == "" {
			return nil, bad("Invalid AOF manifest file format")
		}
		argv, ok := splitArgs(line)
		if !ok || len(argv) < 6 || len(argv)%2 != 0 {
			return nil, bad("Invalid AOF manifest file format")
		}
		var f aofFile
		haveName := false
		for i := 0; i < len(argv); i += 2 {
			switch strings.ToLower(argv[i]) {
			case "file":
				f.name, haveName = argv[i+1], true
				if strings.ContainsAny(f.name, "/\\") {
					return nil, bad("File can't be a path, just a filename")
				}
			case "seq":
				v, err := strconv.ParseInt(argv[i+1], 10, 64)
				if err != nil {
					return nil, bad("Invalid AOF manifest file format")
				}
				f.seq = v
			case "type":
				if argv[i+1] != "" {
					f.typ = argv[i+1][0]
				}
			}
		}
		if !haveName || f.name == "" || f.name == "." || f.name == ".." || f.seq == 0 || f.typ == 0 {
			return nil, bad("Invalid AOF manifest file format")
		}
		switch f.typ {
		case typeBase:
			if m.base != nil {
				return nil, bad("Found duplicate base file information")
			}
			b := f
			m.base = &b
			m.baseSeq = f.seq
		case typeHist:
			m.hist = append(m.hist, f)
		case typeIncr:
			if f.seq <= maxSeq {
				return nil, bad("Found a non-monotonic sequence number")
			}
			m.incr = append(m.incr, f)
			m.incrSeq = f.seq
			maxSeq = f.seq
		default:
			return nil, bad("Unknown AOF file type")
		}
	}
	if linenum == 0 {
		return nil, &ManifestError{Msg: "Found an empty AOF manifest"}
	}
	return m, nil
}

// format renders the manifest as Redis's getAofManifestAsString.
func (m *manifest) format() []byte {
	var b []byte
	line := func(f aofFile) {
		b = append(b, "file "...)
		b = appendManifestName(b, f.name)
		b = append(b, " seq "...)
		b = strconv.AppendInt(b, f.seq, 10)
		b = append(b, " type "...)
		b = append(b, f.typ, '\n')
	}
	if m.base != nil {
		line(*m.base)
	}
	for _, f := range m.hist {
		line(f)
	}
	for _, f := range m.incr {
		line(f)
	}
	return b
}

// appendManifestName writes name bare, or quoted as sdscatrepr when
// sdsneedsrepr says so. A single quote is quoted too: Redis writes it bare
// and then cannot read it back.
func appendManifestName(b []byte, name string) []byte {
	needs := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '\\' || c == '"' || c == '\'' || c <= ' ' || c >= 0x7f {
			needs = true
			break
		}
	}
	if !needs {
		return append(b, name...)
	}
	b = append(b, '"')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\a':
			b = append(b, `\a`...)
		case '\b':
			b = append(b, `\b`...)
		default:
			if c >= ' ' && c < 0x7f {
				b = append(b, c)
			} else {
				b = append(b, `\x`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			}
		}
	}
	return append(b, '"')
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// splitArgs is Redis's sdssplitargs: whitespace-separated words, "double
// quoted" with C escapes (\xHH, \n, \r, \t, \b, \a, \<any>) or 'single
// quoted' (only \' escaped); a closing quote must be followed by a space or
// the end. It reports false on unbalanced quotes.
func splitArgs(line string) ([]string, bool) {
	var out []string
	p := 0
	n := len(line)
	at := func(i int) byte { // C string: NUL past the end
		if i < n {
			return line[i]
		}
		return 0
	}
	for {
		for p < n && isCSpace(line[p]) {
			p++
		}
		if p >= n {
			return out, true
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			c := at(p)
			switch {
			case inq:
				h1, ok1 := hexVal(at(p + 2))
				h2, ok2 := hexVal(at(p + 3))
				switch {
				case c == '\\' && at(p+1) == 'x' && ok1 && ok2:
					cur = append(cur, h1<<4|h2)
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					switch e := line[p]; e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				case c == '"':
					if at(p+1) != 0 && !isCSpace(at(p+1)) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if at(p+1) != 0 && !isCSpace(at(p+1)) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if p < n {
				p++
			}
		}
		out = append(out, string(cur))
	}
}
