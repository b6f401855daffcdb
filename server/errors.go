package server

import (
	"bytes"
	"errors"
	"strings"
)

// respError is an error reply. Its text is sent as is after '-'; the first
// word is the error code INFO errorstats counts by.
type respError string

func (e respError) Error() string { return string(e) }

// code is the errorstats key: the first word of the reply.
func (e respError) code() string {
	s := string(e)
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// Every fixed error text Redis sends, defined once with Redis 7's exact words.
// Handlers return these; the dispatcher writes them.
const (
	errSyntax            respError = "ERR syntax error"
	errNotInteger        respError = "ERR value is not an integer or out of range"
	errNotFloat          respError = "ERR value is not a valid float"
	errWrongType         respError = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errNoAuth            respError = "NOAUTH Authentication required."
	errWrongPass         respError = "WRONGPASS invalid username-password pair or user is disabled."
	errAuthNotSet        respError = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errNoProto           respError = "NOPROTO unsupported protocol version"
	errNoSuchKey         respError = "ERR no such key"
	errDBIndex           respError = "ERR DB index is out of range"
	errInvalidDB         respError = "ERR invalid DB index"
	errOverflow          respError = "ERR increment or decrement would overflow"
	errFloatNaNOrInf     respError = "ERR increment would produce NaN or Infinity"
	errInvalidExpire     respError = "ERR invalid expire time in '%s' command"
	errStringTooLong     respError = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errOffsetRange       respError = "ERR offset is out of range"
	errNXAndXX           respError = "ERR XX and NX options at the same time are not compatible"
	errGTLTNX            respError = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errSameObject        respError = "ERR source and destination objects are the same"
	errOOM               respError = "OOM command not allowed when used memory > 'maxmemory'."
	errLoading           respError = "LOADING Redis is loading the dataset in memory"
	errBusyKey           respError = "BUSYKEY Target key name already exists."
	errClusterDisabled   respError = "ERR This instance has cluster support disabled"
	errNoSuchClient      respError = "ERR No such client"
	errDebugDisabled     respError = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
	errCountPositive     respError = "ERR value is out of range, must be positive"
	errInvalidCursor     respError = "ERR invalid cursor"
	errTimeoutNegative   respError = "ERR timeout is negative"
	errTimeoutNotFloat   respError = "ERR timeout is not a float or out of range"
	errTimeoutOutOfRange respError = "ERR timeout is out of range"

	errTimeoutNotInt respError = "ERR timeout is not an integer or out of range"

	errMultiNested    respError = "ERR MULTI calls can not be nested"
	errExecNoMulti    respError = "ERR EXEC without MULTI"
	errDiscardNoMulti respError = "ERR DISCARD without MULTI"
	errWatchInMulti   respError = "ERR WATCH inside MULTI is not allowed"
	errExecAbort      respError = "EXECABORT Transaction discarded because of previous errors."
	errNotInMulti     respError = "ERR Command not allowed inside a transaction"
	errNoScript       respError = "NOSCRIPT No matching script. Please use EVAL."
	errNotFromScript  respError = "ERR This Redis command is not allowed from script"

	errNumKeysNegative   respError = "ERR Number of keys can't be negative"
	errNumKeysTooMany    respError = "ERR Number of keys can't be greater than number of args"
	errScriptFlushOption respError = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
	errNotBusy           respError = "NOTBUSY No scripts in execution right now."
	errBusy              respError = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errUnkillable        respError = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errBusyFunction      respError = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	errScriptOOM         respError = "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
	errScriptWriteRO     respError = "ERR Can not execute a script with write flag using *_ro command."
	errInvalidFirstDB    respError = "ERR invalid first DB index"
	errInvalidSecondDB   respError = "ERR invalid second DB index"
	errNoShutdown        respError = "ERR No shutdown in progress."
	errNoConfigFile      respError = "ERR The server is running without a config file"

	// Connection group.
	errIntRange          respError = "ERR value is out of range, value must between -2147483648 and 2147483647"
	errHelloProtover     respError = "ERR Protocol version is not an integer or out of range"
	errHelloNoAuth       respError = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	errClientName        respError = "ERR Client names cannot contain spaces, newlines or special characters."
	errClientIDPositive  respError = "ERR client-id should be greater than 0"
	errInvalidClientID   respError = "ERR Invalid client ID"
	errCachingNoTracking respError = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"

	// Generic group.
	errExpireNXCompat respError = "ERR NX and XX, GT or LT options at the same time are not compatible"
	errExpireGTLT     respError = "ERR GT and LT options at the same time are not compatible"
	errLFUNotSelected respError = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	errLFUSelected    respError = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."

	// String group.
	errDecrOverflow  respError = "ERR decrement would overflow"
	errLCSNotStrings respError = "ERR The specified keys must contain string values"
	errLCSIdxAndLen  respError = "ERR If you want both the length and indexes, please just use IDX."
	errLCSTooBig     respError = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)

// errArity is Redis's wrong-number-of-arguments reply for a command's full
// name ("get", "config|get").
func errArity(fullName string) respError {
	return respError("ERR wrong number of arguments for '" + fullName + "' command")
}

// errUnknownCommand mirrors Redis 7: the name and the first arguments, each
// cut so the list stays under 128 bytes, with CR/LF replaced by spaces.
func errUnknownCommand(argv [][]byte) respError {
	var b strings.Builder
	for _, a := range argv[1:] {
		if b.Len() >= 128 {
			break
		}
		a = cBytes(a)
		room := 128 - b.Len()
		if len(a) > room {
			a = a[:room]
		}
		b.WriteByte('\'')
		b.Write(a)
		b.WriteString("' ")
	}
	return respError(sanitize("ERR unknown command '" + truncate(argv[0], 128) + "', with args beginning with: " + b.String()))
}

// errUnknownSubcommand is the reply for a container command's unknown
// subcommand.
func errUnknownSubcommand(container string, sub []byte) respError {
	return respError(sanitize("ERR unknown subcommand '" + truncate(sub, 128) + "'. Try " + strings.ToUpper(container) + " HELP."))
}

// errInvalidExpireIn is errInvalidExpire for one command.
func errInvalidExpireIn(cmd string) respError {
	return respError(strings.Replace(string(errInvalidExpire), "%s", cmd, 1))
}

// cBytes cuts b at its first NUL, as the C format Redis uses for these
// replies ("%.128s") stops there.
func cBytes(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

func truncate(b []byte, n int) string {
	b = cBytes(b)
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// sanitize keeps an error reply on one line, as Redis's rejectCommandFormat does.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// asRespError turns any error into the reply to send: store errors map to
// their Redis texts; anything else becomes a generic ERR with its message.
func asRespError(err error) respError {
	var re respError
	switch {
	case errors.As(err, &re):
		return re
	case errors.Is(err, errStoreWrongType):
		return errWrongType
	case errors.Is(err, errStoreNoSuchKey):
		return errNoSuchKey
	}
	return respError(sanitize("ERR " + err.Error()))
}

// COMMAND GETKEYS / GETKEYSANDFLAGS.
const (
	errInvalidCommandSpecified respError = "ERR Invalid command specified"
	errInvalidArgsNumber       respError = "ERR Invalid number of arguments specified for command"
	errNoKeyArguments          respError = "ERR The command has no key arguments"
	errInvalidArgsSpecified    respError = "ERR Invalid arguments specified for command"
)

// Hash group.
const (
	errHashNotInteger  respError = "ERR hash value is not an integer"
	errHashNotFloat    respError = "ERR hash value is not a float"
	errValueNaNOrInf   respError = "ERR value is NaN or Infinity"
	errRandCountRange  respError = "ERR value is out of range"
	errHrandCountRange respError = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"

	// SORT.
	errSortScore respError = "ERR One or more scores can't be converted into double"
)

// Set group (the numkeys and LIMIT texts are SINTERCARD's and ZINTERCARD's).
const (
	errNumkeysPositive respError = "ERR numkeys should be greater than 0"
	errNumkeysTooMany  respError = "ERR Number of keys can't be greater than number of args"
	errLimitNegative   respError = "ERR LIMIT can't be negative"
)

// Sorted-set group.
const (
	errZIncrNaN          respError = "ERR resulting score is not a number (NaN)"
	errZIncrPair         respError = "ERR INCR option supports a single increment-element pair"
	errMinMaxNotFloat    respError = "ERR min or max is not a float"
	errMinMaxNotLex      respError = "ERR min or max not valid string range item"
	errLimitRankOnly     respError = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errWithscoresBylex   respError = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errWeightNotFloat    respError = "ERR weight value is not a float"
	errCountGreaterThan0 respError = "ERR count should be greater than 0"
)

// Bitmap and HyperLogLog groups.
const (
	errBitOffset        respError = "ERR bit offset is not an integer or out of range"
	errBitValue         respError = "ERR bit is not an integer or out of range"
	errBitposBit        respError = "ERR The bit argument must be 1 or 0."
	errBitopNot         respError = "ERR BITOP NOT must be called with a single source key."
	errBitfieldType     respError = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	errBitfieldOverflow respError = "ERR Invalid OVERFLOW type specified"
	errBitfieldRO       respError = "ERR BITFIELD_RO only supports the GET subcommand"
	errHLLWrongType     respError = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errHLLCorrupt       respError = "INVALIDOBJ Corrupted HLL object detected"
	errHLLNoKey         respError = "ERR The specified key does not exist"
	errHLLNotSparse     respError = "ERR HLL encoding is not sparse"
)

// List group and blocking commands.
const (
	errIndexOutOfRange    respError = "ERR index out of range"
	errRankZero           respError = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errLposCountNegative  respError = "ERR COUNT can't be negative"
	errLposMaxlenNegative respError = "ERR MAXLEN can't be negative"
	errUnblocked          respError = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
	errUnblockReason      respError = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
)

// SLOWLOG, LATENCY and MONITOR.
const (
	errSlowlogCount respError = "ERR count should be greater than or equal to -1"
)

// Rate-limit group (cmd_ratelimit.go; docs/ratelimit.md lists which texts
// are redis-cell's and which are cachalot's).
const (
	errCellZeroRate   respError = "Cell error: Store error: Zero rates are not supported"
	errCellUsage      respError = "Cell error: Store error: Usage: cl.throttle <key> <max_burst> <count per period> <period> [<quantity>]"
	errRLNegBurst     respError = "ERR max_burst must not be negative"
	errRLNegQuantity  respError = "ERR quantity must not be negative"
	errRLRate         respError = "ERR the rate must be positive and its emission interval at least 1 nanosecond"
	errRLParams       respError = "ERR capacity, tokens and interval_ms must be positive"
	errRLTooLarge     respError = "ERR capacity times interval_ms is out of range"
	errRLNegCost      respError = "ERR COST must not be negative"
	errRLBadState     respError = "ERR key does not hold a rate limiter state"
	errRLNumBuckets   respError = "ERR numbuckets should be greater than 0"
	errRLBucketsCount respError = "ERR number of buckets doesn't match the arguments"
)
