package server

import (
	"strings"
	"testing"

	"github.com/cachalotdb/cachalot/config"
)

func TestDisableCommands(t *testing.T) {
	srv, addr, logs := startTestServer(t, func(cfg *config.Config) {
		if err := cfg.Set("disable-commands", "FLUSHALL keys nosuchcmd"); err != nil {
			t.Fatal(err)
		}
	})
	c := dialRaw(t, addr)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"FLUSHALL"}, "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n"},
		{[]string{"keys", "*"}, "-ERR unknown command 'keys', with args beginning with: '*' \r\n"},
		{[]string{"FLUSHDB"}, "+OK\r\n"},
		{[]string{"COMMAND", "INFO", "flushall"}, "*1\r\n"},
	}
	for _, tt := range tests {
		if got := c.do(tt.args...); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.args, got, tt.want)
		}
	}
	for _, cmd := range srv.table.sorted {
		if cmd.name == "flushall" || cmd.name == "keys" {
			t.Errorf("COMMAND still lists %s", cmd.name)
		}
	}
	if !strings.Contains(logs.String(), "nosuchcmd") {
		t.Error("an unknown name in disable-commands was not logged")
	}
}
