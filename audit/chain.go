package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// A sealed line is the record's JSON with "hash" as its last member:
//
//	{"time":...,"prev_hash":"<64 hex>","hash":"<64 hex>"}
//
// The hash is SHA-256 over the same bytes with the "hash" member left out
// (the object closed right after "prev_hash"), so verifying needs no
// re-encoding: it cuts the line, hashes the bytes as written and compares.
// "prev_hash" is inside the hashed bytes, which is what chains the records.

const (
	hashKey   = `,"hash":"`
	hashHexes = 2 * sha256.Size
)

// sealedSuffixLen is the length of `,"hash":"<hex>"}`.
const sealedSuffixLen = len(hashKey) + hashHexes + len(`"}`)

// seal encodes r (with r.Hash empty) and returns the line with its hash
// appended and a trailing newline; it also sets r.Hash.
func seal(r *Record) ([]byte, error) {
	r.Hash = ""
	body := appendRecordJSON(make([]byte, 0, 512), r)
	// The encoder wrote `,"hash":""}` at the end: cut it off.
	const emptyHash = `,"hash":""}`
	if !bytes.HasSuffix(body, []byte(emptyHash)) {
		return nil, errors.New("encode audit record: hash is not the last field")
	}
	body = append(body[:len(body)-len(emptyHash)], '}')
	sum := sha256.Sum256(body)
	r.Hash = hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(body)+sealedSuffixLen)
	line = append(line, body[:len(body)-1]...)
	line = append(line, hashKey...)
	line = append(line, r.Hash...)
	line = append(line, `"}`...)
	line = append(line, '\n')
	return line, nil
}

// errNotSealed means a line is not a sealed record at all (a torn or foreign
// line), as opposed to a sealed record whose hash does not match.
var errNotSealed = errors.New("not a sealed audit record")

// unseal parses one line (without its newline). It returns the record, and
// whether the stored hash matches the bytes. err is errNotSealed when the
// line has no hash member in the sealed position, or a JSON error.
func unseal(line []byte) (rec *Record, hashOK bool, err error) {
	if len(line) < sealedSuffixLen+2 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return nil, false, errNotSealed
	}
	cut := len(line) - sealedSuffixLen
	if !bytes.Equal(line[cut:cut+len(hashKey)], []byte(hashKey)) {
		return nil, false, errNotSealed
	}
	stored := line[cut+len(hashKey) : len(line)-2]
	rec = new(Record)
	if err := json.Unmarshal(line, rec); err != nil {
		return nil, false, fmt.Errorf("%w: %v", errNotSealed, err)
	}
	body := make([]byte, 0, cut+1)
	body = append(body, line[:cut]...)
	body = append(body, '}')
	sum := sha256.Sum256(body)
	var want [hashHexes]byte
	hex.Encode(want[:], sum[:])
	return rec, bytes.Equal(want[:], stored) && rec.Hash == string(stored), nil
}
