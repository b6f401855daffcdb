package integration

import (
	"context"
	"testing"

	"github.com/cachalotdb/cachalot/tests/difftest"
	"github.com/redis/go-redis/v9"
)

// Functions and the Lua libraries through go-redis: FUNCTION LOAD, FCall
// and FCallRO round trips, FunctionList, and a BullMQ-like job script that
// keeps its job data as cjson in a hash and moves the job between lists.

const queueLib = `#!lua name=queue
local function add(keys, args)
  local id = redis.call('incr', keys[1])
  local job = {name = args[1], data = cjson.decode(args[2]), attempts = 0}
  redis.call('hset', keys[2] .. id, 'json', cjson.encode(job))
  redis.call('rpush', keys[3], id)
  return id
end
local function take(keys)
  local id = redis.call('lmove', keys[1], keys[2], 'LEFT', 'RIGHT')
  if not id then return false end
  local job = cjson.decode(redis.call('hget', keys[3] .. id, 'json'))
  job.attempts = job.attempts + 1
  redis.call('hset', keys[3] .. id, 'json', cjson.encode(job))
  return {id, job.name, job.data.n, job.attempts}
end
local function peek(keys)
  return redis.call('lrange', keys[1], 0, -1)
end
redis.register_function('add', add)
redis.register_function('take', take)
redis.register_function{function_name = 'peek', callback = peek, flags = {'no-writes'}, description = 'waiting jobs'}
`

func TestFunctionsGoRedis(t *testing.T) {
	srv := difftest.StartCachalot(t)
	ctx := context.Background()
	rdb := newTxClient(t, srv.Addr, 4)

	if name, err := rdb.FunctionLoad(ctx, queueLib).Result(); err != nil || name != "queue" {
		t.Fatalf("FUNCTION LOAD: %q, %v", name, err)
	}
	if _, err := rdb.FunctionLoad(ctx, queueLib).Result(); err == nil || err.Error() != "ERR Library 'queue' already exists" {
		t.Fatalf("second FUNCTION LOAD: %v", err)
	}
	if _, err := rdb.FunctionLoadReplace(ctx, queueLib).Result(); err != nil {
		t.Fatalf("FUNCTION LOAD REPLACE: %v", err)
	}
	for i, name := range []string{"mail", "resize"} {
		id, err := rdb.FCall(ctx, "add", []string{"job:id", "job:", "wait"}, name, `{"n":`+string(rune('1'+i))+`}`).Int64()
		if err != nil || id != int64(i+1) {
			t.Fatalf("FCALL add %s: %d, %v", name, id, err)
		}
	}
	waiting, err := rdb.FCallRO(ctx, "peek", []string{"wait"}).StringSlice()
	if err != nil || len(waiting) != 2 || waiting[0] != "1" || waiting[1] != "2" {
		t.Fatalf("FCALL_RO peek: %v, %v", waiting, err)
	}
	got, err := rdb.FCall(ctx, "take", []string{"wait", "active", "job:"}).Slice()
	if err != nil || len(got) != 4 || got[0] != "1" || got[1] != "mail" || got[2] != int64(1) || got[3] != int64(1) {
		t.Fatalf("FCALL take: %v, %v", got, err)
	}
	if v, _ := rdb.HGet(ctx, "job:1", "json").Result(); len(v) == 0 {
		t.Fatalf("job:1 json missing")
	}
	// A function without no-writes may not run through FCALL_RO.
	if err := rdb.FCallRO(ctx, "take", []string{"wait", "active", "job:"}).Err(); err == nil ||
		err.Error() != "ERR Can not execute a script with write flag using *_ro command." {
		t.Fatalf("FCALL_RO take: %v", err)
	}
	if err := rdb.FCall(ctx, "nosuch", nil).Err(); err == nil || err.Error() != "ERR Function not found" {
		t.Fatalf("FCALL nosuch: %v", err)
	}

	libs, err := rdb.FunctionList(ctx, redis.FunctionListQuery{LibraryNamePattern: "q*", WithCode: true}).Result()
	if err != nil || len(libs) != 1 || libs[0].Name != "queue" || libs[0].Engine != "LUA" || len(libs[0].Functions) != 3 || libs[0].Code != queueLib {
		t.Fatalf("FUNCTION LIST: %+v, %v", libs, err)
	}
	for _, f := range libs[0].Functions {
		if f.Name == "peek" && (f.Description != "waiting jobs" || len(f.Flags) != 1 || f.Flags[0] != "no-writes") {
			t.Fatalf("peek in FUNCTION LIST: %+v", f)
		}
	}
	if err := rdb.FunctionDelete(ctx, "queue").Err(); err != nil {
		t.Fatalf("FUNCTION DELETE: %v", err)
	}
	if err := rdb.FCall(ctx, "add", []string{"a", "b", "c"}, "x", "{}").Err(); err == nil {
		t.Fatalf("FCALL after FUNCTION DELETE succeeded")
	}
}
