package server

// The usage-string parser behind COMMAND DOCS: it turns a row's usage, written
// in Redis's documentation syntax, into the argument tree Redis 7.0 replies
// with (name, type, key_spec_index, token, since, flags, arguments).
//
// Syntax accepted (Redis's docs syntax plus three optional annotations):
//
//	key value                  placeholders, one argument each
//	NX  GET  WITHSCORES        UPPER-CASE words are tokens: alone they are
//	                           pure tokens; before a placeholder or a group
//	                           they become that argument's "token"
//	[ ... ]                    optional group
//	( ... )  or  < ... >       required group
//	a | b                      alternatives inside a group: a "oneof"
//	x [x ...]                  x repeated: flag "multiple" ("multiple_token"
//	[x [x ...]]                too when x starts with a token); x may be a
//	                           sequence such as "field value"
//
// Annotations, all optional:
//
//	name:type       a placeholder's type when it can't be inferred, one of
//	                string integer double key pattern unix-time
//	                ("increment:double", "index:integer")
//	label=[...]     names a group whose Redis name can't be inferred
//	label=(...)     ("condition=[NX | XX]", "whereto=(LEFT | RIGHT)")
//	word@7.0.0      the "since" of an argument; on a word or right after a
//	]@7.0.0         group's closing bracket ("[GET]@6.2.0",
//	                "EX seconds@2.6.12", "[NX | XX]@2.6.12")
//	name~N          an explicit key_spec_index N, for a non-key placeholder
//	                Redis ties to a key spec (SORT's "BY pattern~1"); keys
//	                after it are numbered from N+1
//
// Inference: a placeholder named key, source or destination, or ending in
// "key", is a key (numbered key_spec_index 0, 1, … in order); "pattern" is
// a pattern; names starting with "unix-time" are unix-time; a few
// customary names (count, seconds, milliseconds, numkeys, offset, …) are
// integers; everything else is a string. A sequence of several arguments
// inside one group becomes a "block", named like Redis 7.0 after its
// members joined by "_" ("key_value"); a oneof of well-known tokens gets Redis's customary name
// (condition, expiration, comparison, order…), otherwise the name of its
// first alternative.

import (
	"strings"
	"sync"
)

// docArg is one node of the argument tree.
type docArg struct {
	name         string
	typ          string // string integer double key pattern unix-time pure-token oneof block
	keySpecIndex int    // -1 unless typ == "key" (or name~N)
	token        string
	since        string
	optional     bool
	multiple     bool
	multiToken   bool
	args         []*docArg // oneof and block
}

// usageNode is the parse tree before it is shaped into docArgs.
type usageNode struct {
	word     string // placeholder or token, without annotations; "" for groups
	typ      string // from name:type
	ksi      int    // from name~N, plus one (0: none)
	label    string // from label=[...]
	since    string
	group    bool
	optional bool
	alts     [][]*usageNode
	ellipsis bool // the "..." marker
	// set by collapseRepeats: unit repeated ("x [x ...]")
	repeat []*usageNode
}

var docArgTypes = map[string]bool{
	"string": true, "integer": true, "double": true, "key": true,
	"pattern": true, "unix-time": true, "pure-token": true, "oneof": true, "block": true,
}

// parseUsage parses a usage string into the argument list COMMAND DOCS
// shows. Malformed input yields what could be parsed; it never panics.
func parseUsage(usage string) []*docArg {
	p := &usageParser{toks: lexUsage(usage)}
	seq := p.parseSeq()
	ksi := 0
	args := shapeSeq(seq)
	numberKeys(args, &ksi)
	return args
}

// docArgsCache memoises parseUsage per usage string: the table is static.
var docArgsCache sync.Map // string -> []*docArg

func usageArgs(usage string) []*docArg {
	if v, ok := docArgsCache.Load(usage); ok {
		return v.([]*docArg)
	}
	args := parseUsage(usage)
	docArgsCache.Store(usage, args)
	return args
}

func lexUsage(s string) []string {
	var toks []string
	i := 0
	for i < len(s) {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			i++
		case ch == '[' || ch == '(' || ch == '<' || ch == '|':
			toks = append(toks, string(ch))
			i++
		case ch == ']' || ch == ')' || ch == '>':
			j := i + 1
			if j < len(s) && s[j] == '@' {
				for j < len(s) && !strings.ContainsRune(" \t\n[]()<>|", rune(s[j])) {
					j++
				}
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n[]()<>|", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j]) // "label=" stays a token of its own
			i = j
		}
	}
	return toks
}

type usageParser struct {
	toks []string
	pos  int
}

func (p *usageParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

// parseAlts parses alternatives up to a closing bracket (consumed by the caller).
func (p *usageParser) parseAlts() [][]*usageNode {
	alts := [][]*usageNode{p.parseSeq()}
	for p.peek() == "|" {
		p.pos++
		alts = append(alts, p.parseSeq())
	}
	return alts
}

func isCloser(t string) bool {
	return t != "" && (t[0] == ']' || t[0] == ')' || t[0] == '>')
}

func (p *usageParser) parseSeq() []*usageNode {
	var seq []*usageNode
	for p.pos < len(p.toks) {
		t := p.peek()
		if t == "|" || isCloser(t) {
			return seq
		}
		p.pos++
		label := ""
		if strings.HasSuffix(t, "=") && len(t) > 1 {
			if n := p.peek(); n == "[" || n == "(" || n == "<" {
				label = strings.TrimSuffix(t, "=")
				t = p.peek()
				p.pos++
			}
		}
		switch t {
		case "[", "(", "<":
			n := &usageNode{group: true, optional: t == "[", label: label}
			n.alts = p.parseAlts()
			if c := p.peek(); isCloser(c) {
				p.pos++
				if i := strings.IndexByte(c, '@'); i >= 0 {
					n.since = c[i+1:]
				}
			}
			seq = append(seq, n)
		case "...":
			seq = append(seq, &usageNode{ellipsis: true})
		default:
			seq = append(seq, parseWord(t))
		}
	}
	return seq
}

func parseWord(w string) *usageNode {
	n := &usageNode{}
	if i := strings.LastIndexByte(w, '@'); i > 0 && isVersion(w[i+1:]) {
		n.since = w[i+1:]
		w = w[:i]
	}
	if i := strings.LastIndexByte(w, '~'); i > 0 && isDigits(w[i+1:]) {
		n.ksi = atoiSmall(w[i+1:]) + 1
		w = w[:i]
	}
	if i := strings.LastIndexByte(w, ':'); i > 0 && docArgTypes[w[i+1:]] {
		n.typ = w[i+1:]
		w = w[:i]
	}
	n.word = w
	return n
}

func isDigits(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoiSmall(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func isVersion(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// isToken reports whether a word is an UPPER-CASE literal token.
func isToken(w string) bool {
	letter := false
	for i := 0; i < len(w); i++ {
		ch := w[i]
		switch {
		case 'A' <= ch && ch <= 'Z':
			letter = true
		case '0' <= ch && ch <= '9', ch == '-', ch == '_':
		default:
			return false
		}
	}
	return letter
}

// render is a node's text without annotations, to recognise repetitions.
func render(seq []*usageNode) string {
	var b strings.Builder
	for i, n := range seq {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case n.ellipsis:
			b.WriteString("...")
		case n.repeat != nil:
			b.WriteString("{" + render(n.repeat) + "}...")
		case n.group:
			if n.optional {
				b.WriteByte('[')
			} else {
				b.WriteByte('(')
			}
			for j, a := range n.alts {
				if j > 0 {
					b.WriteString(" | ")
				}
				b.WriteString(render(a))
			}
			b.WriteByte(')')
		default:
			b.WriteString(n.word)
		}
	}
	return b.String()
}

// collapseRepeats rewrites "x [x ...]" into one repeated unit, and a bare
// "x ..." likewise.
func collapseRepeats(seq []*usageNode) []*usageNode {
	var out []*usageNode
	for _, n := range seq {
		if n.group && n.optional && len(n.alts) == 1 {
			// "x [x ...]": the group's body is the unit and an ellipsis.
			body := n.alts[0]
			if k := len(body); k >= 2 && body[k-1].ellipsis {
				unit := collapseRepeats(body[:k-1])
				if len(out) >= len(unit) && render(out[len(out)-len(unit):]) == render(unit) {
					rep := append([]*usageNode(nil), out[len(out)-len(unit):]...)
					out = append(out[:len(out)-len(unit)], &usageNode{repeat: rep})
					continue
				}
				// "[x ...]" with nothing before it to match: x optional, repeated.
				n.alts[0] = []*usageNode{{repeat: unit}}
				out = append(out, n)
				continue
			}
		}
		if n.group {
			for i := range n.alts {
				n.alts[i] = collapseRepeats(n.alts[i])
			}
		}
		if n.ellipsis && len(out) > 0 {
			last := out[len(out)-1]
			out[len(out)-1] = &usageNode{repeat: []*usageNode{last}}
			continue
		}
		out = append(out, n)
	}
	return out
}

// shapeSeq turns a sequence into arguments, merging each token with the
// placeholder or group that follows it.
func shapeSeq(seq []*usageNode) []*docArg {
	seq = collapseRepeats(seq)
	var args []*docArg
	for i := 0; i < len(seq); i++ {
		n := seq[i]
		if n.ellipsis {
			continue
		}
		if n.word != "" && isToken(n.word) && n.typ == "" && i+1 < len(seq) {
			next := seq[i+1]
			if next.word != "" && !isToken(next.word) || next.group || next.repeat != nil {
				a := shapeNode(next)
				a.token = n.word
				if next.group && next.label == "" && len(next.alts) == 1 && a.typ == "block" {
					a.name = strings.ToLower(n.word)
				} else if next.group && next.label == "" && len(next.alts) > 1 {
					a.name = strings.ToLower(n.word)
				}
				if a.since == "" {
					a.since = n.since
				}
				args = append(args, a)
				i++
				continue
			}
		}
		args = append(args, shapeNode(n))
	}
	return args
}

// shapeNode turns one node into one argument.
func shapeNode(n *usageNode) *docArg {
	switch {
	case n.repeat != nil:
		a := shapeUnit(n.repeat, "")
		a.multiple = true
		if len(n.repeat) > 0 && n.repeat[0].word != "" && isToken(n.repeat[0].word) && n.repeat[0].typ == "" && len(n.repeat) > 1 {
			a.multiToken = true
		}
		return a
	case n.group:
		var a *docArg
		if len(n.alts) == 1 {
			a = shapeUnit(n.alts[0], n.label)
		} else {
			a = &docArg{typ: "oneof", keySpecIndex: -1}
			for _, alt := range n.alts {
				a.args = append(a.args, shapeUnit(alt, ""))
			}
			a.name = oneofName(a.args)
		}
		if n.label != "" {
			a.name = n.label
		}
		if n.optional {
			a.optional = true
		}
		if n.since != "" {
			a.since = n.since
		}
		return a
	}
	a := &docArg{name: n.word, keySpecIndex: n.ksi - 1, since: n.since}
	if isToken(n.word) && n.typ == "" {
		a.typ = "pure-token"
		a.token = n.word
		a.name = strings.ToLower(n.word)
		return a
	}
	a.typ = n.typ
	if a.typ == "" {
		a.typ = inferType(n.word)
	}
	return a
}

// shapeUnit shapes a sequence that must become a single argument: itself
// when it is one, else a block.
func shapeUnit(seq []*usageNode, label string) *docArg {
	args := shapeSeq(seq)
	if len(args) == 1 {
		return args[0]
	}
	b := &docArg{typ: "block", keySpecIndex: -1}
	if len(seq) > 0 && seq[0].word != "" && isToken(seq[0].word) && seq[0].typ == "" {
		// TOKEN a b …: a block introduced by the token.
		b.token = seq[0].word
		b.since = seq[0].since
		args = shapeSeq(seq[1:])
	}
	b.args = args
	// Redis 7.0 names an unnamed block after its members: "key_value".
	names := make([]string, len(args))
	for i, a := range args {
		names[i] = a.name
	}
	b.name = strings.Join(names, "_")
	if label != "" {
		b.name = label
	}
	return b
}

// oneofNames are Redis's names for common unnamed alternatives.
var oneofNames = map[string]string{
	"nx xx":                   "condition",
	"nx xx gt lt":             "condition",
	"gt lt":                   "comparison",
	"ex px exat pxat keepttl": "expiration",
	"ex px exat pxat persist": "expiration",
	"asc desc":                "order",
	"before after":            "where",
	"byscore bylex":           "sortby",
}

func oneofName(alts []*docArg) string {
	names := make([]string, len(alts))
	for i, a := range alts {
		names[i] = strings.ToLower(firstNonEmpty(a.token, a.name))
	}
	if n, ok := oneofNames[strings.Join(names, " ")]; ok {
		return n
	}
	if len(alts) > 0 {
		return alts[0].name
	}
	return "arg"
}

var integerNames = map[string]bool{
	"count": true, "seconds": true, "milliseconds": true, "numkeys": true,
	"offset": true, "start": true, "end": true, "stop": true, "db": true,
	"destination-db": true, "port": true, "decrement": true, "numreplicas": true,
}

func inferType(name string) string {
	switch {
	case name == "key" || name == "source" || name == "destination" || strings.HasSuffix(name, "key"):
		return "key"
	case name == "pattern":
		return "pattern"
	case strings.HasPrefix(name, "unix-time"):
		return "unix-time"
	case integerNames[name]:
		return "integer"
	}
	return "string"
}

// numberKeys assigns key_spec_index in order of appearance; an explicit
// index (name~N) moves the numbering past it.
func numberKeys(args []*docArg, next *int) {
	for _, a := range args {
		if a.keySpecIndex >= 0 {
			*next = max(*next, a.keySpecIndex+1)
		} else if a.typ == "key" {
			a.keySpecIndex = *next
			*next++
		}
		numberKeys(a.args, next)
	}
}

// writeDocArgs writes the "arguments" array in Redis 7.0's shape.
func writeDocArgs(w *Writer, args []*docArg) {
	w.Array(len(args))
	for _, a := range args {
		n := 2
		if a.keySpecIndex >= 0 {
			n++
		}
		if a.token != "" {
			n++
		}
		if a.since != "" {
			n++
		}
		var flags []string
		if a.optional {
			flags = append(flags, "optional")
		}
		if a.multiple {
			flags = append(flags, "multiple")
		}
		if a.multiToken {
			flags = append(flags, "multiple_token")
		}
		if len(flags) > 0 {
			n++
		}
		nested := a.typ == "oneof" || a.typ == "block"
		if nested {
			n++
		}
		w.Map(n)
		w.BulkString("name")
		w.BulkString(a.name)
		w.BulkString("type")
		w.BulkString(a.typ)
		if a.keySpecIndex >= 0 {
			w.BulkString("key_spec_index")
			w.Int(int64(a.keySpecIndex))
		}
		if a.token != "" {
			w.BulkString("token")
			w.BulkString(a.token)
		}
		if a.since != "" {
			w.BulkString("since")
			w.BulkString(a.since)
		}
		if len(flags) > 0 {
			w.BulkString("flags")
			w.Set(len(flags))
			for _, f := range flags {
				w.Simple(f)
			}
		}
		if nested {
			w.BulkString("arguments")
			writeDocArgs(w, a.args)
		}
	}
}
