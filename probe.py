import socket,sys,time
def conn(port):
    s=socket.create_connection(("127.0.0.1",port)); s.settimeout(2); return s
def cmd(s,*a):
    out=b"*%d\r\n"%len(a)
    for x in a:
        x=x.encode() if isinstance(x,str) else x
        out+=b"$%d\r\n%s\r\n"%(len(x),x)
    s.sendall(out); time.sleep(0.05); return s.recv(65536)
port=int(sys.argv[1])
A=conn(port); B=conn(port)
def p(label,r): print(label.ljust(40), r)
cmd(B,"FLUSHALL"); cmd(B,"CONFIG","SET","maxmemory-policy","noeviction"); cmd(B,"CONFIG","SET","maxmemory","0")
cmd(B,"SET","big","x"*100000)
# 1 queue-time
cmd(B,"CONFIG","SET","maxmemory","1")
p("MULTI",cmd(A,"MULTI")); p("GET k (queued, OOM)",cmd(A,"GET","k")); p("SET k v",cmd(A,"SET","k","v")); p("EXEC",cmd(A,"EXEC"))
p("MULTI",cmd(A,"MULTI")); p("DISCARD",cmd(A,"DISCARD"))
# 2 exec-time with denyoom queued
cmd(B,"CONFIG","SET","maxmemory","0")
p("MULTI",cmd(A,"MULTI")); p("SET k v",cmd(A,"SET","k","v")); p("GET k",cmd(A,"GET","k"))
cmd(B,"CONFIG","SET","maxmemory","1")
p("EXEC (denyoom queued)",cmd(A,"EXEC")); p("after: GET k",cmd(A,"GET","k")); p("EXEC again",cmd(A,"EXEC"))
# 3 exec-time without denyoom
cmd(B,"CONFIG","SET","maxmemory","0")
p("MULTI",cmd(A,"MULTI")); p("GET k",cmd(A,"GET","k")); p("DEL k",cmd(A,"DEL","nokey"))
cmd(B,"CONFIG","SET","maxmemory","1")
p("EXEC (reads only)",cmd(A,"EXEC"))
# 4 scripts
p("EVAL write",cmd(A,"EVAL","return redis.call('SET',KEYS[1],'v')","1","k"))
p("PCALL write",cmd(A,"EVAL","return redis.pcall('SET',KEYS[1],'v')","1","k"))
p("EVAL read",cmd(A,"EVAL","return redis.call('GET',KEYS[1])","1","k"))
p("EVAL del then set",cmd(A,"EVAL","redis.call('DEL',KEYS[1]); return redis.call('SET',KEYS[1],'v')","1","k"))
p("EVAL_RO read",cmd(A,"EVAL_RO","return redis.call('GET',KEYS[1])","1","k"))
p("EVAL expire(not denyoom)",cmd(A,"EVAL","return redis.call('EXPIRE',KEYS[1],100)","1","big"))
p("EVAL shebang",cmd(A,"EVAL","#!lua\nreturn redis.call('GET',KEYS[1])","1","k"))
p("EVALSHA unknown",cmd(A,"EVALSHA","a"*40,"0"))
# in MULTI: EVAL queued while under OOM
p("MULTI",cmd(A,"MULTI")); p("EVAL queued",cmd(A,"EVAL","return 1","0")); p("EXEC",cmd(A,"EXEC"))
# eval queued before OOM, exec under OOM
cmd(B,"CONFIG","SET","maxmemory","0")
p("MULTI",cmd(A,"MULTI")); p("EVAL set queued",cmd(A,"EVAL","return redis.call('SET',KEYS[1],'v')","1","k"))
cmd(B,"CONFIG","SET","maxmemory","1")
p("EXEC (eval queued)",cmd(A,"EXEC"))
cmd(B,"CONFIG","SET","maxmemory","0")
p("MULTI",cmd(A,"MULTI")); p("INCR queued",cmd(A,"INCR","ctr"))
cmd(B,"CONFIG","SET","maxmemory","1")
p("INFO in multi",cmd(A,"PING")[:60]); p("EXEC", cmd(A,"EXEC"))
p("errorstats", cmd(B,"INFO","errorstats"))
p("commandstats", [l for l in cmd(B,"INFO","commandstats").split(b"\r\n") if b"exec" in l or b"eval" in l or b"_get" in l or b"_set" in l])
cmd(B,"CONFIG","SET","maxmemory","0")
