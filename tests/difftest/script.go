package difftest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Mode says how the replies of a script line are compared.
type Mode int

const (
	ModeExact    Mode = iota // byte-identical replies (plain line)
	ModeSorted               // !sorted: top-level aggregate as a multiset
	ModeLoose                // !loose: same RESP type only
	ModeError                // !error: both errors, identical text
	ModeIgnore               // !skip-reply: a reply is read from each, not compared
	ModeResp3                // !resp3: HELLO 3 on both connections
	ModeResp2                // !resp2: HELLO 2 on both connections
	ModeFlushAll             // !flushall: FLUSHALL on both, +OK required
	ModeSleep                // !sleep MS: pause (for expiry tests)
)

// Step is one meaningful line of a script.
type Step struct {
	Line  int
	Mode  Mode
	Args  []string      // command to send (empty for directives without one)
	Sleep time.Duration // for ModeSleep
	Text  string        // the original line
}

// Sends reports whether the step sends a command whose replies are read.
func (s Step) Sends() bool { return len(s.Args) > 0 }

var prefixModes = map[string]Mode{
	"!sorted":     ModeSorted,
	"!loose":      ModeLoose,
	"!error":      ModeError,
	"!skip-reply": ModeIgnore,
}

var bareModes = map[string]Mode{
	"!resp3":    ModeResp3,
	"!resp2":    ModeResp2,
	"!flushall": ModeFlushAll,
}

// ParseScript parses a script: one command per line, split like redis-cli
// does (see SplitArgs); lines starting with # are comments, blank lines are
// ignored; a line starting with ! is a directive.
func ParseScript(src []byte) ([]Step, error) {
	var steps []Step
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(text)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		st, err := parseStep(trimmed)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		st.Line = n
		st.Text = trimmed
		steps = append(steps, st)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return steps, nil
}

func parseStep(line string) (Step, error) {
	if !strings.HasPrefix(line, "!") {
		args, err := SplitArgs(line)
		if err != nil {
			return Step{}, err
		}
		return Step{Mode: ModeExact, Args: args}, nil
	}
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	if m, ok := bareModes[word]; ok {
		if rest != "" {
			return Step{}, fmt.Errorf("%s takes no argument", word)
		}
		return Step{Mode: m}, nil
	}
	if m, ok := prefixModes[word]; ok {
		args, err := SplitArgs(rest)
		if err != nil {
			return Step{}, err
		}
		if len(args) == 0 {
			return Step{}, fmt.Errorf("%s needs a command", word)
		}
		return Step{Mode: m, Args: args}, nil
	}
	if word == "!sleep" {
		ms, err := strconv.Atoi(rest)
		if err != nil || ms < 0 || ms > 10000 {
			return Step{}, fmt.Errorf("!sleep needs milliseconds between 0 and 10000, got %q", rest)
		}
		return Step{Mode: ModeSleep, Sleep: time.Duration(ms) * time.Millisecond}, nil
	}
	return Step{}, fmt.Errorf("unknown directive %q", word)
}

// SplitArgs splits a line into arguments with the quoting rules of
// redis-cli (sdssplitargs): whitespace separates arguments; inside double
// quotes \n \r \t \b \a \xHH \" and \\ are escapes (any other \c is c);
// inside single quotes everything is literal except \'; a closing quote must
// be followed by whitespace or the end of the line. Quotes may start in the
// middle of an argument (foo"bar" is foobar). An empty line yields no
// arguments.
func SplitArgs(line string) ([]string, error) {
	var args []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return args, nil
		}
		var cur []byte
		inDouble, inSingle, done := false, false, false
		for !done {
			if inDouble {
				if i >= len(line) {
					return nil, errors.New("unbalanced double quotes")
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, hexVal(line[i+2])<<4|hexVal(line[i+3]))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch line[i] {
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
						cur = append(cur, line[i])
					}
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errors.New("closing double quote must be followed by a space")
					}
					done = true
				default:
					cur = append(cur, c)
				}
			} else if inSingle {
				if i >= len(line) {
					return nil, errors.New("unbalanced single quotes")
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur = append(cur, '\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errors.New("closing single quote must be followed by a space")
					}
					done = true
				default:
					cur = append(cur, c)
				}
			} else {
				if i >= len(line) {
					break
				}
				switch c := line[i]; {
				case isSpace(c):
					done = true
				case c == '"':
					inDouble = true
				case c == '\'':
					inSingle = true
				default:
					cur = append(cur, c)
				}
			}
			if i < len(line) {
				i++
			}
		}
		args = append(args, string(cur))
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// ScriptResult counts what a script run did.
type ScriptResult struct {
	Commands int // command lines sent to both servers
	Compared int // of those, lines whose replies were compared
}

// RunScript runs the steps of one script on p. Mismatches are reported with
// t.Errorf prefixed by name:line; the run goes on with the next line.
func RunScript(t testing.TB, p *Pair, name string, steps []Step) ScriptResult {
	t.Helper()
	var res ScriptResult
	for _, st := range steps {
		where := fmt.Sprintf("%s:%d", name, st.Line)
		switch st.Mode {
		case ModeResp3, ModeResp2:
			ver, want := "3", byte('%')
			if st.Mode == ModeResp2 {
				ver, want = "2", '*'
			}
			r, c := p.exchangeAt(t, where, []string{"HELLO", ver})
			if len(r) == 0 || r[0] != want || len(c) == 0 || c[0] != want {
				t.Fatalf("%s: %s", where, Mismatch([]string{"HELLO", ver}, fmt.Sprintf("must return a %q reply on both", want), r, c))
			}
			continue
		case ModeFlushAll:
			r, c := p.exchangeAt(t, where, []string{"FLUSHALL"})
			if string(r) != "+OK\r\n" || string(c) != "+OK\r\n" {
				t.Fatalf("%s: %s", where, Mismatch([]string{"FLUSHALL"}, "must return +OK on both", r, c))
			}
			continue
		case ModeSleep:
			time.Sleep(st.Sleep)
			continue
		}
		r, c := p.exchangeAt(t, where, st.Args)
		res.Commands++
		var msg string
		switch st.Mode {
		case ModeExact:
			msg = CompareExact(r, c)
		case ModeSorted:
			msg = CompareSorted(r, c)
		case ModeLoose:
			msg = CompareType(r, c)
		case ModeError:
			msg = CompareError(r, c)
		case ModeIgnore:
			continue
		}
		res.Compared++
		if msg != "" {
			t.Errorf("%s: %s", where, Mismatch(st.Args, msg, r, c))
		}
	}
	return res
}

// exchangeAt sends args to both servers; a network or protocol error is
// fatal for t and names the script position.
func (p *Pair) exchangeAt(t testing.TB, where string, args []string) (r, c []byte) {
	t.Helper()
	r, err := p.R.DoErr(args...)
	if err != nil {
		t.Fatalf("%s: %s: redis: %v (partial reply %q)", where, quoteArgs(args), err, r)
	}
	c, err = p.C.DoErr(args...)
	if err != nil {
		t.Fatalf("%s: %s: cachalot: %v (partial reply %q; redis replied %q)", where, quoteArgs(args), err, c, r)
	}
	return r, c
}

// ScriptFiles returns the *.txt files of dir, sorted by name.
func ScriptFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	return files, nil
}

// LoadScript reads and parses a script file.
func LoadScript(path string) ([]Step, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	steps, err := ParseScript(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Base(path), err)
	}
	return steps, nil
}
