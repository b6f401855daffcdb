package persistence

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CheckAOFMain is `cachalot check-aof [--fix] <file.manifest|file.aof>`,
// redis-check-aof's behaviour and messages: it validates a manifest and its
// files, or one AOF file, and with --fix cuts a bad tail of the last file
// (without asking, unlike redis-check-aof, and printing what it did). It
// returns the exit status: 0 valid or fixed, 1 otherwise.
func CheckAOFMain(args []string) int {
	return CheckAOF(args, os.Stdout)
}

// CheckAOF is CheckAOFMain writing to out.
func CheckAOF(args []string, out io.Writer) int {
	c := &checker{out: out}
	var path string
	switch {
	case len(args) == 1 && args[0] != "--fix":
		path = args[0]
	case len(args) == 2 && args[0] == "--fix":
		path, c.fix = args[1], true
	default:
		fmt.Fprintln(out, "Usage: cachalot check-aof [--fix] <file.manifest|file.aof>")
		return 1
	}
	if err := c.run(path); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(out, err)
		}
		return 1
	}
	return 0
}

var errReported = errors.New("reported")

type checker struct {
	out io.Writer
	fix bool
}

func (c *checker) printf(format string, args ...any) { fmt.Fprintf(c.out, format+"\n", args...) }

func (c *checker) run(path string) error {
	head := make([]byte, 5)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("Cannot open file: %s", path)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("Cannot stat file: %s", path)
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	switch {
	case st.Size() >= 30 && string(head[:min(4, n)]) == "file":
		return c.multiPart(path)
	case st.Size() >= 8 && string(head) == "REDIS":
		return fmt.Errorf("%s starts with an RDB preamble, which cachalot does not read: use redis-check-aof", path)
	}
	c.printf("Start checking Old-Style AOF")
	res, err := c.single(path, path, true)
	if err != nil {
		return err
	}
	switch res {
	case checkOK:
		c.printf("AOF %s is valid", path)
	case checkEmpty:
		c.printf("AOF %s is empty", path)
	case checkTruncated:
		c.printf("Successfully truncated AOF %s", path)
	}
	return nil
}

func (c *checker) multiPart(manifestPath string) error {
	c.printf("Start checking Multi Part AOF")
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		c.printf("Fatal error: can't open the AOF manifest file %s for reading: %v", manifestPath, err)
		return errReported
	}
	m, err := parseManifest(data)
	if err != nil {
		var me *ManifestError
		c.printf("\n*** FATAL AOF MANIFEST FILE ERROR ***")
		if errors.As(err, &me) {
			if me.Line > 0 {
				c.printf("Reading the manifest file, at line %d", me.Line)
				c.printf(">>> '%s'", me.Text)
			}
			c.printf("%s", me.Msg)
		} else {
			c.printf("%v", err)
		}
		return errReported
	}
	dir := filepath.Dir(manifestPath)
	total := len(m.incr)
	if m.base != nil {
		total++
	}
	num := 0
	report := func(kind, name string, res int) {
		switch res {
		case checkOK:
			c.printf("%s AOF %s is valid", kind, name)
		case checkEmpty:
			c.printf("%s AOF %s is empty", kind, name)
		case checkTruncated:
			c.printf("Successfully truncated AOF %s", name)
		}
	}
	if m.base != nil {
		num++
		p := filepath.Join(dir, m.base.name)
		if isRDB(p) {
			c.printf("BASE AOF %s is in RDB format, which cachalot does not read: use redis-check-aof", m.base.name)
			return errReported
		}
		c.printf("Start to check BASE AOF (RESP format).")
		res, err := c.single(m.base.name, p, num == total)
		if err != nil {
			return err
		}
		report("BASE", m.base.name, res)
	}
	if len(m.incr) > 0 {
		c.printf("Start to check INCR files.")
		for _, f := range m.incr {
			num++
			res, err := c.single(f.name, filepath.Join(dir, f.name), num == total)
			if err != nil {
				return err
			}
			report("INCR", f.name, res)
		}
	}
	c.printf("All AOF files and manifest are valid")
	return nil
}

func isRDB(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 5)
	n, _ := io.ReadFull(f, b)
	return n == 5 && string(b) == "REDIS"
}

const (
	checkOK = iota
	checkEmpty
	checkTruncated
)

// single checks one file as redis-check-aof's checkSingleAof: it finds the
// offset of the first command (or MULTI block) that is not whole and valid.
func (c *checker) single(name, path string, last bool) (int, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		c.printf("Cannot open file: %s, aborting...", name)
		return 0, errReported
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		c.printf("Cannot stat file: %s, aborting...", name)
		return 0, errReported
	}
	size := st.Size()
	if size == 0 {
		return checkEmpty, nil
	}
	pos, line, msg := scanValid(f, size)
	if msg != "" {
		c.printf("%s", msg)
	}
	diff := size - pos
	c.printf("AOF analyzed: filename=%s, size=%d, ok_up_to=%d, ok_up_to_line=%d, diff=%d", name, size, pos, line, diff)
	if diff == 0 {
		return checkOK, nil
	}
	if !c.fix {
		c.printf("AOF %s is not valid. Use the --fix option to try fixing it.", name)
		return 0, errReported
	}
	if !last {
		c.printf("Failed to truncate AOF %s because it is not the last file", name)
		return 0, errReported
	}
	c.printf("This will shrink the AOF %s from %d bytes, with %d bytes, to %d bytes", name, size, diff, pos)
	if err := f.Truncate(pos); err != nil {
		c.printf("Failed to truncate AOF %s", name)
		return 0, errReported
	}
	if err := f.Sync(); err != nil {
		c.printf("Failed to fsync AOF %s: %v", name, err)
		return 0, errReported
	}
	return checkTruncated, nil
}

// scanValid returns the end of the valid prefix of an AOF (at a command or
// MULTI block boundary), the line number there, and the error message
// ("0x<offset>: reason", as redis-check-aof) when the file is not all valid.
func scanValid(r io.Reader, size int64) (pos, line int64, msg string) {
	s := newScanner(r, size)
	multi := false
	line = 1
	for {
		if !multi {
			pos, line = s.off, s.line
		}
		off, err := s.next()
		if err == io.EOF {
			if multi {
				return pos, line, fmt.Sprintf("0x%16x: Reached EOF before reading EXEC for MULTI", s.off)
			}
			return s.off, s.line, ""
		}
		if err != nil {
			var fe *formatError
			if errors.As(err, &fe) {
				return pos, line, fmt.Sprintf("0x%16x: %s", fe.off, fe.msg)
			}
			return pos, line, fmt.Sprintf("0x%16x: %s", s.off, "Unexpected end of file")
		}
		argv := s.last()
		switch {
		case isCmd(argv, "multi"):
			if multi {
				return pos, line, fmt.Sprintf("0x%16x: Unexpected MULTI", off)
			}
			multi = true
		case isCmd(argv, "exec"):
			if !multi {
				return pos, line, fmt.Sprintf("0x%16x: Unexpected EXEC", off)
			}
			multi = false
		}
		s.reset()
	}
}
