package server

// ACL users and permissions, as Redis 7.0's acl.c: a user has flags,
// SHA-256 password hashes and selectors; a selector allows commands (a
// bitmap over the command table, plus "first-args" of otherwise blocked
// commands), key patterns (with %R/%W read/write permissions) and Pub/Sub
// channel patterns. The first selector is the root one (the rules written
// outside parentheses); a command runs when any selector allows it.
//
// A user's rules live in an immutable aclRules value swapped atomically by
// ACL SETUSER/LOAD, so the per-command check reads them without locks, and
// a user whose root selector allows everything (the default user) costs
// one atomic load and a flag test.

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/cachalotdb/cachalot/config"
)

// User flags, in the order ACL LIST and GETUSER print them.
const (
	userOn uint8 = 1 << iota
	userOff
	userNopass
	userSkipSanitize
	userSanitize
)

var userFlagNames = []struct {
	flag uint8
	name string
}{
	{userOn, "on"}, {userOff, "off"}, {userNopass, "nopass"},
	{userSkipSanitize, "skip-sanitize-payload"}, {userSanitize, "sanitize-payload"},
}

// Key pattern permissions (ACL_READ_PERMISSION, ACL_WRITE_PERMISSION).
const (
	permRead  uint8 = 1
	permWrite uint8 = 2
	permAll         = permRead | permWrite
)

// Results of a permission check, ordered as Redis's ACL_DENIED_* (a later
// one wins when several selectors deny).
const (
	aclOK = iota
	aclDeniedCmd
	aclDeniedKey
	aclDeniedAuth
	aclDeniedChannel
)

// Log contexts.
const (
	aclCtxToplevel = iota
	aclCtxMulti
	aclCtxLua
)

// Channel argument kinds of the Pub/Sub commands the check looks at.
const (
	chanNone       uint8 = iota
	chanFirst            // PUBLISH, SPUBLISH: argv[1], matched against patterns
	chanAll              // SUBSCRIBE, SSUBSCRIBE: argv[1:], matched against patterns
	chanAllLiteral       // PSUBSCRIBE: argv[1:], compared literally
)

// aclCmd is what the ACL code knows of a command row.
type aclCmd struct {
	id   int
	cats uint32 // bit i: category aclOrder[i]
	chn  uint8
	// specs are the row's key specs' (first argv index, needed permission);
	// keys before every index get the union.
	specs []aclKeySpec
	union uint8
	// setVariable: SET's flags depend on GET (setGetKeys).
	setVariable bool
}

type aclKeySpec struct {
	index int
	need  uint8
}

type keyPattern struct {
	perm    uint8
	pattern string
}

// aclSelector is one set of permissions.
type aclSelector struct {
	root        bool
	allKeys     bool
	allChannels bool
	allCommands bool
	future      bool // +@all was applied: Redis's reserved command bit
	cmds        []uint64
	firstArgs   map[int][]string
	keys        []keyPattern
	channels    []string
}

// aclRules is a user's whole description; never modified once published.
type aclRules struct {
	flags     uint8
	passwords []string // lower-case SHA-256 hex
	selectors []*aclSelector
	// unrestricted: the root selector allows every command, key and
	// channel, so no check is needed.
	unrestricted bool
}

// aclUser is a user; clients point at it, and it keeps its identity while
// its rules change.
type aclUser struct {
	name  string
	rules atomic.Pointer[aclRules]
}

type aclLogEntry struct {
	count    int64
	reason   int
	context  int
	object   string
	username string
	ctime    int64 // ms
	cinfo    string
}

// aclState is the server's users and ACL log.
type aclState struct {
	mu    sync.Mutex // guards users, log; serialises changes
	users map[string]*aclUser
	def   *aclUser
	log   []*aclLogEntry // newest first
	// authRequired: the default user has a password or is off, so new
	// connections must AUTH (Redis's authRequired()).
	authRequired atomic.Bool

	nbits int        // commands in the table (bitmap size)
	all   []*command // by id: every row and subcommand, table order
	top   []*command // top-level rows, table order
}

var deletedUserRules = &aclRules{flags: userOff} // rules of a deleted user: nothing allowed

// initACL numbers the command table and creates the default user.
func (s *Server) initACL(cfg *config.Config) {
	a := &s.acl
	a.users = make(map[string]*aclUser)
	for _, c := range s.table.sorted {
		a.top = append(a.top, c)
		a.register(c)
		for _, sc := range c.subs {
			a.register(sc)
		}
	}
	a.nbits = len(a.all)
	a.def = a.newDefaultUser()
	a.users["default"] = a.def
	a.setRequirepass(cfg.Requirepass)
}

func (a *aclState) register(c *command) {
	info := &aclCmd{id: len(a.all)}
	for _, cat := range c.sortedACL() {
		if i := slices.Index(aclOrder, cat); i >= 0 {
			info.cats |= 1 << i
		}
	}
	switch c.fullName {
	case "publish", "spublish":
		info.chn = chanFirst
	case "subscribe", "ssubscribe":
		info.chn = chanAll
	case "psubscribe":
		info.chn = chanAllLiteral
	}
	for _, ks := range c.specs() {
		need := keyNeed(ks.flags)
		info.union |= need
		info.specs = append(info.specs, aclKeySpec{index: ks.index, need: need})
	}
	info.setVariable = c.fullName == "set"
	c.aclInfo = info
	a.all = append(a.all, c)
}

// keyNeed maps key-spec flags to the permission a key needs, as
// ACLSelectorCheckKey: ACCESS reads, INSERT/DELETE/UPDATE write.
func keyNeed(flags string) uint8 {
	var need uint8
	for _, f := range strings.Fields(flags) {
		switch strings.ToUpper(f) {
		case "ACCESS":
			need |= permRead
		case "INSERT", "DELETE", "UPDATE":
			need |= permWrite
		}
	}
	return need
}

func (a *aclState) newSelector(root bool) *aclSelector {
	return &aclSelector{root: root, cmds: make([]uint64, (a.nbits+63)/64)}
}

func (a *aclState) newRules() *aclRules {
	return &aclRules{flags: userOff, selectors: []*aclSelector{a.newSelector(true)}}
}

func (a *aclState) newDefaultUser() *aclUser {
	r := a.newRules()
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		a.setUser(r, []byte(op))
	}
	u := &aclUser{name: "default"}
	u.publish(r)
	return u
}

func (u *aclUser) publish(r *aclRules) {
	root := r.selectors[0]
	r.unrestricted = root.allCommands && root.allKeys && root.allChannels
	u.rules.Store(r)
}

func (sel *aclSelector) clone() *aclSelector {
	n := *sel
	n.cmds = slices.Clone(sel.cmds)
	n.keys = slices.Clone(sel.keys)
	n.channels = slices.Clone(sel.channels)
	if sel.firstArgs != nil {
		n.firstArgs = make(map[int][]string, len(sel.firstArgs))
		for k, v := range sel.firstArgs {
			n.firstArgs[k] = slices.Clone(v)
		}
	}
	return &n
}

func (r *aclRules) clone() *aclRules {
	n := &aclRules{flags: r.flags, passwords: slices.Clone(r.passwords)}
	for _, s := range r.selectors {
		n.selectors = append(n.selectors, s.clone())
	}
	return n
}

// ACL rule errors (the errno values of ACLSetUser) and their texts.
type aclRuleErr int

const (
	aclErrFormat aclRuleErr = iota
	aclErrUnknown
	aclErrSyntax
	aclErrKeyAfterAll
	aclErrChanAfterAll
	aclErrNoPassword
	aclErrBadHash
	aclErrDuplicate
	aclErrFirstArgSub
)

func (e aclRuleErr) Error() string {
	switch e {
	case aclErrUnknown:
		return "Unknown command or category name in ACL"
	case aclErrSyntax:
		return "Syntax error"
	case aclErrKeyAfterAll:
		return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	case aclErrChanAfterAll:
		return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	case aclErrNoPassword:
		return "The password you are trying to remove from the user does not exist"
	case aclErrBadHash:
		return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	case aclErrDuplicate:
		return "Duplicate user found. A user can only be defined once in config files"
	case aclErrFirstArgSub:
		return "Allowing first-arg of a subcommand is not supported"
	}
	return "Wrong format"
}

func hashPassword(p []byte) string {
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:])
}

func validHash(h []byte) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if (c < 'a' || c > 'f') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// hasSpaces is ACLStringHasSpaces: isspace or NUL anywhere.
func hasSpaces(b []byte) bool {
	for _, c := range b {
		if c == 0 || c == ' ' || (c >= '\t' && c <= '\r') {
			return true
		}
	}
	return false
}

// setUser applies one rule to r (ACLSetUser).
func (a *aclState) setUser(r *aclRules, op []byte) error {
	if len(op) == 0 {
		return nil
	}
	switch {
	case equalFold(op, "on"):
		r.flags = r.flags&^userOff | userOn
	case equalFold(op, "off"):
		r.flags = r.flags&^userOn | userOff
	case equalFold(op, "skip-sanitize-payload"):
		r.flags = r.flags&^userSanitize | userSkipSanitize
	case equalFold(op, "sanitize-payload"):
		r.flags = r.flags&^userSkipSanitize | userSanitize
	case equalFold(op, "nopass"):
		r.flags |= userNopass
		r.passwords = nil
	case equalFold(op, "resetpass"):
		r.flags &^= userNopass
		r.passwords = nil
	case op[0] == '>' || op[0] == '#':
		var h string
		if op[0] == '>' {
			h = hashPassword(op[1:])
		} else {
			if !validHash(op[1:]) {
				return aclErrBadHash
			}
			h = string(op[1:])
		}
		if !slices.Contains(r.passwords, h) {
			r.passwords = append(r.passwords, h)
		}
		r.flags &^= userNopass
	case op[0] == '<' || op[0] == '!':
		var h string
		if op[0] == '<' {
			h = hashPassword(op[1:])
		} else {
			if !validHash(op[1:]) {
				return aclErrBadHash
			}
			h = string(op[1:])
		}
		i := slices.Index(r.passwords, h)
		if i < 0 {
			return aclErrNoPassword
		}
		r.passwords = slices.Delete(r.passwords, i, i+1)
	case op[0] == '(' && op[len(op)-1] == ')':
		sel := a.newSelector(false)
		args, ok := splitArgs(op[1 : len(op)-1])
		if !ok {
			args = nil // sdssplitargs fails: an empty selector, as Redis
		}
		for _, arg := range args {
			if err := a.setSelector(sel, arg); err != nil {
				return err
			}
		}
		r.selectors = append(r.selectors, sel)
	case equalFold(op, "clearselectors"):
		r.selectors = r.selectors[:1]
	case equalFold(op, "reset"):
		for _, o := range []string{"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload", "clearselectors", "-@all"} {
			a.setUser(r, []byte(o))
		}
	default:
		return a.setSelector(r.selectors[0], op)
	}
	return nil
}

// setSelector applies one selector rule (ACLSetSelector).
func (a *aclState) setSelector(sel *aclSelector, op []byte) error {
	switch {
	case equalFold(op, "allkeys"), equalFold(op, "~*"):
		sel.allKeys = true
		sel.keys = nil
	case equalFold(op, "resetkeys"):
		sel.allKeys = false
		sel.keys = nil
	case equalFold(op, "allchannels"), equalFold(op, "&*"):
		sel.allChannels = true
		sel.channels = nil
	case equalFold(op, "resetchannels"):
		sel.allChannels = false
		sel.channels = nil
	case equalFold(op, "allcommands"), equalFold(op, "+@all"):
		for i := range sel.cmds {
			sel.cmds[i] = ^uint64(0)
		}
		sel.allCommands, sel.future = true, true
		sel.firstArgs = nil
	case equalFold(op, "nocommands"), equalFold(op, "-@all"):
		clear(sel.cmds)
		sel.allCommands, sel.future = false, false
		sel.firstArgs = nil
	case op[0] == '~' || op[0] == '%':
		if sel.allKeys {
			return aclErrKeyAfterAll
		}
		perm, off := permAll, 1
		if op[0] == '%' {
			perm = 0
			for ; off < len(op); off++ {
				c := op[off]
				if (c == 'R' || c == 'r') && perm&permRead == 0 {
					perm |= permRead
				} else if (c == 'W' || c == 'w') && perm&permWrite == 0 {
					perm |= permWrite
				} else if c == '~' {
					off++
					break
				} else {
					return aclErrSyntax
				}
			}
			if perm == 0 {
				return aclErrSyntax
			}
		}
		pat := op[off:]
		if hasSpaces(pat) {
			return aclErrSyntax
		}
		found := false
		for i := range sel.keys {
			if sel.keys[i].pattern == string(pat) {
				sel.keys[i].perm |= perm
				found = true
				break
			}
		}
		if !found {
			sel.keys = append(sel.keys, keyPattern{perm: perm, pattern: string(pat)})
		}
		sel.allKeys = false
	case op[0] == '&':
		if sel.allChannels {
			return aclErrChanAfterAll
		}
		if hasSpaces(op[1:]) {
			return aclErrSyntax
		}
		if !slices.Contains(sel.channels, string(op[1:])) {
			sel.channels = append(sel.channels, string(op[1:]))
		}
		sel.allChannels = false
	case op[0] == '+' && (len(op) < 2 || op[1] != '@'):
		name := string(op[1:])
		bar := strings.LastIndexByte(name, '|')
		if bar < 0 {
			cmd := a.lookup(name)
			if cmd == nil {
				return aclErrUnknown
			}
			a.changePerm(sel, cmd, true)
			return nil
		}
		cmd := a.lookup(name[:bar])
		if cmd == nil {
			return aclErrUnknown
		}
		if cmd.parent != nil {
			return aclErrFirstArgSub
		}
		sub := name[bar+1:]
		if sub == "" {
			return aclErrSyntax
		}
		if cmd.subIndex != nil {
			sc := a.lookup(name)
			if sc == nil {
				return aclErrUnknown
			}
			a.changePerm(sel, sc, true)
			return nil
		}
		id := cmd.aclInfo.id
		for _, x := range sel.firstArgs[id] {
			if strings.EqualFold(x, sub) {
				return nil
			}
		}
		if sel.firstArgs == nil {
			sel.firstArgs = make(map[int][]string)
		}
		sel.firstArgs[id] = append(sel.firstArgs[id], sub)
	case op[0] == '-' && (len(op) < 2 || op[1] != '@'):
		cmd := a.lookup(string(op[1:]))
		if cmd == nil {
			return aclErrUnknown
		}
		a.changePerm(sel, cmd, false)
	case (op[0] == '+' || op[0] == '-') && op[1] == '@':
		i := categoryIndex(string(op[2:]))
		if i < 0 {
			return aclErrUnknown
		}
		a.setCategory(sel, uint32(1)<<i, op[0] == '+')
	default:
		return aclErrSyntax
	}
	return nil
}

func categoryIndex(name string) int {
	for i, c := range aclOrder {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// lookup finds a command or "container|sub" strictly, as
// lookupCommandBySdsLogic: one level of subcommands, and a container's
// subcommand must exist.
func (a *aclState) lookup(name string) *command {
	parts := strings.Split(name, "|")
	if len(parts) > 2 || name == "" {
		return nil
	}
	var base *command
	for _, c := range a.top {
		if strings.EqualFold(c.name, parts[0]) {
			base = c
			break
		}
	}
	if base == nil {
		return nil
	}
	if len(parts) == 1 {
		return base
	}
	if base.subIndex == nil {
		return nil
	}
	return base.subIndex[strings.ToLower(parts[1])]
}

func (sel *aclSelector) bit(id int) bool { return sel.cmds[id/64]&(1<<(id%64)) != 0 }

func (sel *aclSelector) setBit(id int, on bool) {
	if on {
		sel.cmds[id/64] |= 1 << (id % 64)
	} else {
		sel.cmds[id/64] &^= 1 << (id % 64)
		sel.allCommands = false
	}
}

// changePerm allows or blocks a command and, for a container, all its
// subcommands (ACLChangeSelectorPerm).
func (a *aclState) changePerm(sel *aclSelector, cmd *command, allow bool) {
	id := cmd.aclInfo.id
	sel.setBit(id, allow)
	if sel.firstArgs != nil {
		delete(sel.firstArgs, id)
	}
	for _, sc := range cmd.subs {
		sel.setBit(sc.aclInfo.id, allow)
	}
}

func (a *aclState) setCategory(sel *aclSelector, cat uint32, allow bool) {
	for _, c := range a.top {
		if c.aclInfo.cats&cat != 0 {
			a.changePerm(sel, c, allow)
		}
		for _, sc := range c.subs {
			if sc.aclInfo.cats&cat != 0 {
				a.changePerm(sel, sc, allow)
			}
		}
	}
}

// describeCommands renders a selector's command rules as
// ACLDescribeSelectorCommandRules: +@all or -@all, the categories that fit
// best, then single commands. Single commands follow the command table's
// order (Redis uses its hash table's, which varies between runs).
func (a *aclState) describeCommands(sel *aclSelector) string {
	var b strings.Builder
	fake := a.newSelector(false)
	additive := !sel.future
	if additive {
		b.WriteString("-@all ")
	} else {
		b.WriteString("+@all ")
		a.setSelector(fake, []byte("+@all"))
	}
	temp := a.newSelector(false)
	copy(temp.cmds, sel.cmds)
	applied := make([]bool, len(aclOrder))
	for {
		best, minDiff, maxSame := -1, int(^uint(0)>>1), 0
		for j := range aclOrder {
			if applied[j] {
				continue
			}
			on, off := 0, 0
			for _, c := range a.all {
				if c.aclInfo.cats&(1<<j) != 0 {
					if temp.bit(c.aclInfo.id) {
						on++
					} else {
						off++
					}
				}
			}
			diff, same := on, off
			if additive {
				diff, same = off, on
			}
			if same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)) {
				best, minDiff, maxSame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		cat := uint32(1) << best
		a.setCategory(fake, cat, additive)
		a.setCategory(temp, cat, !additive)
		if additive {
			b.WriteString("+@")
		} else {
			b.WriteString("-@")
		}
		b.WriteString(aclOrder[best])
		b.WriteByte(' ')
		applied[best] = true
	}
	var single func(cmds []*command)
	single = func(cmds []*command) {
		for _, c := range cmds {
			id := c.aclInfo.id
			user, fb := sel.bit(id), fake.bit(id)
			if user != fb {
				if user {
					b.WriteByte('+')
				} else {
					b.WriteByte('-')
				}
				b.WriteString(c.fullName)
				b.WriteByte(' ')
				a.changePerm(fake, c, user)
			}
			single(c.subs)
			if !user {
				for _, fa := range sel.firstArgs[id] {
					b.WriteString("+" + c.fullName + "|" + fa + " ")
				}
			}
		}
	}
	single(a.top)
	out := b.String()
	return out[:len(out)-1]
}

func (p keyPattern) String() string {
	switch p.perm {
	case permRead:
		return "%R~" + p.pattern
	case permWrite:
		return "%W~" + p.pattern
	}
	return "~" + p.pattern
}

// describeSelector is ACLDescribeSelector.
func (a *aclState) describeSelector(sel *aclSelector) string {
	var b strings.Builder
	if sel.allKeys {
		b.WriteString("~* ")
	} else {
		for _, k := range sel.keys {
			b.WriteString(k.String())
			b.WriteByte(' ')
		}
	}
	if sel.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, ch := range sel.channels {
			b.WriteString("&" + ch + " ")
		}
	}
	b.WriteString(a.describeCommands(sel))
	return b.String()
}

// describeUser is ACLDescribeUser: the rules ACL LIST and ACL SAVE print.
func (a *aclState) describeUser(r *aclRules) string {
	var b strings.Builder
	for _, f := range userFlagNames {
		if r.flags&f.flag != 0 {
			b.WriteString(f.name + " ")
		}
	}
	for _, p := range r.passwords {
		b.WriteString("#" + p + " ")
	}
	for _, sel := range r.selectors {
		if sel.root {
			b.WriteString(a.describeSelector(sel))
		} else {
			b.WriteString(" (" + a.describeSelector(sel) + ")")
		}
	}
	return b.String()
}

// mergeSelectorArgs joins selector rules split over several arguments
// ("(~a" "+get)") as ACLMergeSelectorArguments; bad is the index of an
// unclosed one, or -1.
func mergeSelectorArgs(args [][]byte) (out [][]byte, bad int) {
	open := -1
	var cur []byte
	for j, op := range args {
		if open < 0 && len(op) > 0 && op[0] == '(' && op[len(op)-1] != ')' {
			cur = slices.Clone(op)
			open = j
			continue
		}
		if open >= 0 {
			cur = append(append(cur, ' '), op...)
			if len(op) > 0 && op[len(op)-1] == ')' {
				out = append(out, cur)
				open = -1
			}
			continue
		}
		out = append(out, op)
	}
	if open >= 0 {
		return nil, open
	}
	return out, -1
}

// user finds a user by name.
func (a *aclState) user(name string) *aclUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.users[name]
}

// setRequirepass is ACLUpdateDefaultUserPassword: requirepass sets the
// default user's only password ("" makes it nopass).
func (a *aclState) setRequirepass(pass string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.def.rules.Load().clone()
	a.setUser(r, []byte("resetpass"))
	if pass != "" {
		a.setUser(r, append([]byte{'>'}, pass...))
	} else {
		a.setUser(r, []byte("nopass"))
	}
	a.def.publish(r)
	a.updateAuthRequired()
}

// updateAuthRequired follows the default user; call with mu held.
func (a *aclState) updateAuthRequired() {
	r := a.def.rules.Load()
	a.authRequired.Store(r.flags&userNopass == 0 || r.flags&userOff != 0)
}

// defaultNoPass reports whether the default user needs no password
// (protected mode applies then).
func (a *aclState) defaultNoPass() bool {
	return a.def.rules.Load().flags&userNopass != 0
}

// checkCredentials is ACLCheckUserCredentials.
func (a *aclState) checkCredentials(name, pass []byte) *aclUser {
	u := a.user(string(name))
	if u == nil {
		return nil
	}
	r := u.rules.Load()
	if r.flags&userOff != 0 {
		return nil
	}
	if r.flags&userNopass != 0 {
		return u
	}
	h := []byte(hashPassword(pass))
	ok := 0
	for _, p := range r.passwords {
		ok |= subtle.ConstantTimeCompare(h, []byte(p))
	}
	if ok == 1 {
		return u
	}
	return nil
}

// authenticate is ACLAuthenticateUser: on success the client is logged in
// as the user; a failure is logged (object: the command name as sent).
func (s *Server) authenticate(c *client, name, pass, cmdName []byte, argv [][]byte) bool {
	if u := s.acl.checkCredentials(name, pass); u != nil {
		c.setAuthenticated(true)
		c.user.Store(u)
		return true
	}
	s.aclLog(c, argv, aclDeniedAuth, string(cmdName), string(name))
	return false
}

// clientUser is the user a client is logged in as (nil: unrestricted).
func (c *client) userName() string {
	if u := c.user.Load(); u != nil {
		return u.name
	}
	return "default"
}

// setDefaultAuth is clientSetDefaultAuth (RESET).
func (c *client) setDefaultAuth() {
	c.user.Store(c.srv.acl.def)
	c.setAuthenticated(!c.srv.acl.authRequired.Load())
}

// aclCheck refuses a command the client's user may not run. The common
// case, a user allowed everything, costs an atomic load.
func (s *Server) aclCheck(c *client, cmd *command, argv [][]byte) error {
	u := c.user.Load()
	if u == nil {
		return nil
	}
	r := u.rules.Load()
	if r.unrestricted {
		return nil
	}
	return s.aclDeny(c, u, r, cmd, argv)
}

func (s *Server) aclDeny(c *client, u *aclUser, r *aclRules, cmd *command, argv [][]byte) error {
	res, idx := checkRules(r, cmd, argv)
	if res == aclOK {
		return nil
	}
	ctx := aclCtxToplevel
	if c.multi.active {
		ctx = aclCtxMulti
	}
	c.mu.Lock()
	c.lastCmd = cmd.fullName // Redis sets c->cmd before the check; the log's client info shows it
	c.mu.Unlock()
	s.aclLogEntry(c, c, argv, res, ctx, aclObject(res, cmd, argv, idx), u.name)
	switch res {
	case aclDeniedCmd:
		return respError(sanitize("NOPERM this user has no permissions to run the '" + cmd.fullName + "' command"))
	case aclDeniedKey:
		return errNoPermKey
	}
	return errNoPermChannel
}

// aclExecCheck is EXEC's second look at a queued command: the user's rules
// may have changed since it was queued (ACL SETUSER, AUTH as someone
// else). A denial is logged in the "multi" context and answered with
// Redis's "rules changed" error; the connection's last command stays EXEC.
func (s *Server) aclExecCheck(c *client, cmd *command, argv [][]byte) error {
	u := c.user.Load()
	if u == nil {
		return nil
	}
	r := u.rules.Load()
	if r.unrestricted {
		return nil
	}
	res, idx := checkRules(r, cmd, argv)
	if res == aclOK {
		return nil
	}
	s.aclLogEntry(c, c, argv, res, aclCtxMulti, aclObject(res, cmd, argv, idx), u.name)
	why := "no permission to access one of the channels used as arguments"
	switch res {
	case aclDeniedCmd:
		why = "no permission to execute the command or subcommand"
	case aclDeniedKey:
		why = "no permission to touch the specified keys"
	}
	return respError("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + why)
}

const (
	errNoPermKey     respError = "NOPERM this user has no permissions to access one of the keys used as arguments"
	errNoPermChannel respError = "NOPERM this user has no permissions to access one of the channels used as arguments"
)

func aclObject(res int, cmd *command, argv [][]byte, idx int) string {
	if res == aclDeniedCmd {
		return cmd.fullName
	}
	return string(argv[idx])
}

// checkRules is ACLCheckAllUserCommandPerm: OK when any selector allows
// the call; otherwise the most relevant denial and its argv index.
func checkRules(r *aclRules, cmd *command, argv [][]byte) (int, int) {
	if cmd.aclInfo == nil {
		return aclOK, 0
	}
	relevant, last := aclDeniedCmd, 0
	for _, sel := range r.selectors {
		res, idx := sel.check(cmd, argv)
		if res == aclOK {
			return aclOK, 0
		}
		if res > relevant || (res == relevant && idx > last) {
			relevant, last = res, idx
		}
	}
	return relevant, last
}

// check is ACLSelectorCheckCmd.
func (sel *aclSelector) check(cmd *command, argv [][]byte) (int, int) {
	info := cmd.aclInfo
	if !sel.allCommands && !cmd.has(flagNoAuth) && !sel.bit(info.id) {
		fa := sel.firstArgs[info.id]
		if len(argv) < 2 || fa == nil {
			return aclDeniedCmd, 0
		}
		i := 1
		if cmd.parent != nil {
			i = 2
		}
		if i >= len(argv) || !slices.ContainsFunc(fa, func(x string) bool { return strings.EqualFold(x, string(argv[i])) }) {
			return aclDeniedCmd, 0
		}
	}
	if !sel.allKeys {
		var buf [8]int
		pos := cmd.keyPositions(argv, buf[:0])
		for _, p := range pos {
			if p >= len(argv) {
				continue
			}
			if !sel.keyAllowed(argv[p], keyNeedAt(cmd, argv, p)) {
				return aclDeniedKey, p
			}
		}
	}
	if !sel.allChannels && info.chn != chanNone {
		end := len(argv)
		if info.chn == chanFirst {
			end = 2
		}
		for j := 1; j < end && j < len(argv); j++ {
			if !sel.channelAllowed(argv[j], info.chn == chanAllLiteral) {
				return aclDeniedChannel, j
			}
		}
	}
	return aclOK, 0
}

// keyNeedAt is the permission the key at argv[p] needs: that of the last
// index-based key spec starting at or before p, else of all specs.
func keyNeedAt(cmd *command, argv [][]byte, p int) uint8 {
	info := cmd.aclInfo
	if info.setVariable {
		// setGetKeys: SET reads its key only with GET.
		for i := 3; i < len(argv); i++ {
			if equalFold(argv[i], "get") {
				return permRead | permWrite
			}
		}
		return permWrite
	}
	need, found := uint8(0), false
	for _, ks := range info.specs {
		if ks.index > 0 && ks.index <= p {
			need, found = ks.need, true
		}
	}
	if !found {
		return info.union
	}
	return need
}

func (sel *aclSelector) keyAllowed(key []byte, need uint8) bool {
	k := string(key)
	for _, p := range sel.keys {
		if p.perm&need != need {
			continue
		}
		if config.Glob(p.pattern, k, false) {
			return true
		}
	}
	return false
}

func (sel *aclSelector) channelAllowed(ch []byte, literal bool) bool {
	c := string(ch)
	for _, p := range sel.channels {
		if (literal && p == c) || (!literal && config.Glob(p, c, false)) {
			return true
		}
	}
	return false
}

// aclLog records a denied AUTH (username: the one tried).
func (s *Server) aclLog(c *client, argv [][]byte, reason int, object, username string) {
	ctx := aclCtxToplevel
	if c.multi.active {
		ctx = aclCtxMulti
	}
	s.aclLogEntry(c, c, argv, reason, ctx, object, username)
}

// defaultACLLogMaxLen is Redis's acllog-max-len default.
const defaultACLLogMaxLen = 128

// aclLogEntry is addACLLogEntry: a new entry, or a bump of a similar one
// among the 10 latest (same reason, context, object and user, within 60
// s). info is the client whose CLIENT LIST line goes with it (a script's
// caller).
func (s *Server) aclLogEntry(c, info *client, argv [][]byte, reason, ctx int, object, username string) {
	now := time.Now()
	self := info
	if info.rd == nil {
		self = nil // no reader (script or test client): idle buffer figures
	}
	e := &aclLogEntry{count: 1, reason: reason, context: ctx, object: object, username: username,
		ctime: now.UnixMilli(), cinfo: string(info.appendInfo(nil, now, self, argv))}
	a := &s.acl
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 0; i < len(a.log) && i < 10; i++ {
		m := a.log[i]
		d := m.ctime - e.ctime
		if d < 0 {
			d = -d
		}
		if m.reason == e.reason && m.context == e.context && d <= 60000 && m.object == e.object && m.username == e.username {
			m.cinfo, m.ctime = e.cinfo, e.ctime
			m.count++
			copy(a.log[1:i+1], a.log[:i])
			a.log[0] = m
			return
		}
	}
	a.log = append([]*aclLogEntry{e}, a.log...)
	max := s.Config().AcllogMaxLen
	if len(a.log) > max {
		a.log = a.log[:max]
	}
}

// killUserClients closes the connections logged in as the given users
// (ACLFreeUserAndKillClients); the current client gets its reply first.
func (s *Server) killUserClients(self *client, gone map[*aclUser]bool) {
	for _, o := range s.liveClients() {
		u := o.user.Load()
		if u == nil || !gone[u] {
			continue
		}
		if o == self {
			o.user.Store(s.acl.def)
			o.setAuthenticated(false)
			o.closeAfter = true
		} else {
			o.kill()
		}
	}
}

// generatePassword is ACL GENPASS's hex string of bits bits.
func generatePassword(bits int) string {
	chars := (bits + 3) / 4
	b := make([]byte, (chars+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b)[:chars]
}

// sortedUsers are the users by name, as Redis's radix tree orders them.
func (a *aclState) sortedUsers() []*aclUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*aclUser, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// saveFile is ACLSaveToFile: every user as a "user" line, written to a
// temporary file renamed over the ACL file.
func (a *aclState) saveFile(path string) error {
	var b strings.Builder
	for _, u := range a.sortedUsers() {
		b.WriteString("user " + u.name + " " + a.describeUser(u.rules.Load()) + "\n")
	}
	tmp := path + ".tmp-" + time.Now().Format("150405.000000000")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// loadFile is ACLLoadFromFile: it replaces every user with the file's, or
// changes nothing and returns Redis's description of every error found.
// Connections of the replaced users (except default's) are closed.
func (s *Server) loadACLFile(self *client, path string) error {
	a := &s.acl
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		if msg != "" {
			r := []rune(msg)
			r[0] = unicode.ToUpper(r[0])
			msg = string(r)
		}
		return errors.New("Error loading ACLs, opening file '" + path + "': " + msg)
	}
	var errs strings.Builder
	users := make(map[string]*aclRules)
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			errs.WriteString(path + ":" + strconv.Itoa(n) + " should start with user keyword followed by the username. ")
			continue
		}
		if hasSpaces([]byte(argv[1])) {
			errs.WriteString("'" + path + ":" + strconv.Itoa(n) + ": username '" + argv[1] + "' contains invalid characters. ")
			continue
		}
		if _, dup := users[argv[1]]; dup {
			errs.WriteString("WARNING: Duplicate user '" + argv[1] + "' found on line " + strconv.Itoa(n) + ". ")
			continue
		}
		r := a.newRules()
		users[argv[1]] = r
		args := make([][]byte, 0, len(argv)-2)
		for _, x := range argv[2:] {
			args = append(args, []byte(x))
		}
		merged, bad := mergeSelectorArgs(args)
		if bad >= 0 {
			errs.WriteString(path + ":" + strconv.Itoa(n) + ": Unmatched parenthesis in selector definition.")
		}
		for _, op := range merged {
			op = []byte(strings.Trim(string(op), "\t\r\n"))
			if err := a.setUser(r, op); err != nil {
				errs.WriteString(path + ":" + strconv.Itoa(n) + ": " + err.Error() + ". ")
			}
		}
	}
	if errs.Len() > 0 {
		errs.WriteString("WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
		return errors.New(errs.String())
	}
	a.mu.Lock()
	gone := make(map[*aclUser]bool)
	for name, u := range a.users {
		if name != "default" {
			gone[u] = true
			u.rules.Store(deletedUserRules)
		}
	}
	a.users = map[string]*aclUser{"default": a.def}
	if r, ok := users["default"]; ok {
		a.def.publish(r)
	} else {
		a.def.publish(a.newDefaultUser().rules.Load())
	}
	for name, r := range users {
		if name == "default" {
			continue
		}
		u := &aclUser{name: name}
		u.publish(r)
		a.users[name] = u
	}
	a.updateAuthRequired()
	a.mu.Unlock()
	s.killUserClients(self, gone)
	return nil
}

// LoadACLFile loads the aclfile at startup; main refuses to start on an
// error, as Redis does.
func (s *Server) LoadACLFile() error {
	path := s.Config().Aclfile
	if path == "" {
		return nil
	}
	return s.loadACLFile(nil, path)
}

// subscriptionNames lists the client's channels, patterns and shard
// channels (for ACL SETUSER's pub/sub disconnections).
func (c *client) subscriptionNames() (chans, pats, shards []string) {
	p := c.push.Load()
	if p == nil {
		return nil, nil, nil
	}
	h := &c.srv.pubsub
	h.mu.RLock()
	defer h.mu.RUnlock()
	for k := range p.channels {
		chans = append(chans, k)
	}
	for k := range p.patterns {
		pats = append(pats, k)
	}
	for k := range p.shards {
		shards = append(shards, k)
	}
	return chans, pats, shards
}

// aclScriptCheck is scriptVerifyACL: redis.call runs with the caller's
// permissions; a denial is logged in the "lua" context and answered with
// Redis's script error text ("" when allowed).
func (s *Server) aclScriptCheck(caller, lc *client, cmd *command, argv [][]byte) string {
	u := lc.user.Load()
	if u == nil {
		return ""
	}
	r := u.rules.Load()
	if r.unrestricted {
		return ""
	}
	res, idx := checkRules(r, cmd, argv)
	if res == aclOK {
		return ""
	}
	info := caller
	if info == nil {
		info = lc
	}
	s.aclLogEntry(lc, info, nil, res, aclCtxLua, aclObject(res, cmd, argv, idx), u.name)
	switch res {
	case aclDeniedCmd:
		return "ERR The user executing the script can't run this command or subcommand"
	case aclDeniedKey:
		return "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
	}
	return "ERR The user executing the script can't publish to the channel mentioned in the command"
}
