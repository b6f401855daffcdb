package server

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cachalotdb/cachalot/store"
)

// TestListRowsDocsMatchRedis: every list row's usage renders the argument
// tree Redis 7.0's COMMAND DOCS shows (CLIENT UNBLOCK's too).
func TestListRowsDocsMatchRedis(t *testing.T) {
	golden := loadCommandGolden(t)
	rows := listCommands()
	for _, c := range clientSubcommands() {
		if c.name == "unblock" {
			c.fullName = "client|unblock"
			rows = append(rows, c)
		}
	}
	if len(rows) != 23 {
		t.Fatalf("%d rows, want the 22 list commands and CLIENT UNBLOCK", len(rows))
	}
	for _, c := range rows {
		name := c.fullName
		if name == "" {
			name = c.name
		}
		want, ok := golden[name]
		if !ok {
			t.Errorf("%s: not in the golden file", name)
			continue
		}
		gj, _ := json.Marshal(renderArgs(t, c.usage))
		wj, _ := json.Marshal(want.Arguments)
		if string(gj) != string(wj) {
			t.Errorf("%s %q:\n got %s\nwant %s", name, c.usage, gj, wj)
		}
	}
}

type listStep struct {
	args []string
	want string // fmt.Sprint of the parsed reply
}

func runListSteps(t *testing.T, steps []listStep) {
	t.Helper()
	_, addr, _ := startTestServer(t, nil)
	c := dialB(t, addr)
	for _, st := range steps {
		if got := fmt.Sprint(c.do(t, st.args...)); got != st.want {
			t.Errorf("%q: got %s, want %s", st.args, got, st.want)
		}
	}
}

func la(args ...string) []string { return args }

func TestListCommandsBasics(t *testing.T) {
	runListSteps(t, []listStep{
		{la("RPUSH", "l", "a", "b", "c"), "3"},
		{la("LPUSH", "l", "z"), "4"},
		{la("LRANGE", "l", "0", "-1"), "[z a b c]"},
		{la("OBJECT", "ENCODING", "l"), "quicklist"},
		{la("TYPE", "l"), "list"},
		{la("LPUSHX", "none", "x"), "0"},
		{la("EXISTS", "none"), "0"},
		{la("LINDEX", "l", "-1"), "c"},
		{la("LINDEX", "l", "9"), "<nil>"},
		{la("LSET", "l", "1", "A"), "OK"},
		{la("LSET", "l", "9", "A"), string(errIndexOutOfRange)},
		{la("LSET", "none", "0", "A"), string(errNoSuchKey)},
		{la("LINSERT", "l", "AFTER", "A", "m"), "5"},
		{la("LINSERT", "l", "BEFORE", "nope", "m"), "-1"},
		{la("LRANGE", "l", "1", "2"), "[A m]"},
		{la("LREM", "l", "0", "m"), "1"},
		{la("LTRIM", "l", "1", "-1"), "OK"},
		{la("LRANGE", "l", "0", "-1"), "[A b c]"},
		{la("LPOS", "l", "c"), "2"},
		{la("LPOS", "l", "c", "RANK", "0"), string(errRankZero)},
		{la("LPOS", "none", "c", "COUNT", "0"), "[]"},
		{la("LPOP", "l", "0"), "[]"},
		{la("LPOP", "none", "2"), "<nil>"},
		{la("LPOP", "l", "-1"), string(errCountPositive)},
		{la("RPOP", "l", "2"), "[c b]"},
		{la("LMOVE", "l", "l2", "LEFT", "RIGHT"), "A"},
		{la("EXISTS", "l"), "0"},
		{la("RPOPLPUSH", "l2", "l2"), "A"},
		{la("LMPOP", "2", "none", "l2", "LEFT", "COUNT", "9"), "[l2 [A]]"},
		{la("LMPOP", "1", "none", "LEFT"), "<nil>"},
		{la("LMPOP", "0", "none", "LEFT"), string(errNumkeysPositive)},
		{la("LMPOP", "1", "none", "LEFT", "COUNT", "0"), string(errCountGreaterThan0)},
		{la("LMPOP", "3", "a", "LEFT"), string(errSyntax)},
		{la("COMMAND", "GETKEYS", "LMPOP", "2", "x", "y", "LEFT"), "[x y]"},
		{la("COMMAND", "GETKEYS", "BLMPOP", "0", "1", "x", "LEFT"), "[x]"},
		{la("SET", "str", "v"), "OK"},
		{la("LPUSH", "str", "a"), string(errWrongType)},
		{la("BLPOP", "none", "str", "0"), string(errWrongType)},
		{la("BLPOP", "none", "-1"), string(errTimeoutNegative)},
		{la("RPUSH", "d", "x", "12"), "2"},
	})
}

// TestSortHelpers checks the two functions SORT uses: listElements and
// storeList (which wakes blocked clients and deletes on empty).
func TestSortHelpers(t *testing.T) {
	st, err := store.New(store.Options{Databases: 1, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	var ready []string
	st.SetReadyHook(func(_ *store.DB, keys [][]byte) {
		for _, k := range keys {
			ready = append(ready, string(k))
		}
	})
	db := st.DB(0)
	key := []byte("k")
	db.Update([][]byte{key}, func(tx *store.Tx) error {
		storeList(nil, tx, key, [][]byte{[]byte("a"), []byte("b")})
		return nil
	})
	var got []string
	db.View([][]byte{key}, func(tx *store.Tx) error {
		c, err := tx.ReadContainer(key, store.KindList)
		if err != nil || c == nil {
			t.Fatalf("stored list missing: %v", err)
		}
		for _, e := range listElements(c) {
			got = append(got, string(e))
		}
		return nil
	})
	if fmt.Sprint(got) != "[a b]" || fmt.Sprint(ready) != "[k]" {
		t.Errorf("elements %v, ready %v", got, ready)
	}
	db.Update([][]byte{key}, func(tx *store.Tx) error {
		storeList(nil, tx, key, nil)
		if tx.Exists(key) {
			t.Error("storing no elements kept the key")
		}
		return nil
	})
}
