package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"
)

// CacheStatus says where [LoadCached] got its Program from.
type CacheStatus int

const (
	// CacheOff means no cache was used: no cache directory was given, or
	// the running executable's build ID is unknown. The sources were
	// loaded as [Load] loads them.
	CacheOff CacheStatus = iota
	// CacheMiss means the cache had no Program for these sources: they
	// were loaded as [Load] loads them and the cache was written, unless
	// writing failed (which is not an error).
	CacheMiss
	// CacheHit means the Program was rebuilt from the cache.
	CacheHit
)

func (s CacheStatus) String() string {
	if s < CacheOff || s > CacheHit {
		return fmt.Sprintf("CacheStatus(%d)", int(s))
	}
	return [...]string{"off", "miss", "hit"}[s]
}

// cacheMagic starts every cache file; it names the snapshot format, so a
// file of another format is a miss.
var cacheMagic = fmt.Sprintf("rampart policy cache %d\n", snapshotFormat)

// LoadCached is [Load] with a cache of compiled policy sets in cacheDir
// (the CLI uses $RAMPART_HOME/cache), for processes that load the same
// policies again and again, such as one hook call per tool call. It returns
// the same Program, the same errors and the same warnings as Load.
//
// The policy files are found and read as Load finds and reads them, on
// every call; the cache is keyed on their exact content (not their size or
// modification time), their paths and order, o's home directory and the
// build ID of the running executable (which covers the embedded profiles
// and the engine's code). Any change to any of them, a new or removed
// policy file included, is a miss: the sources are compiled as by Load,
// with every error reported, and the result is written to the cache,
// atomically and readable only by the user. Only a set that loaded without
// error is cached. The cache holds one file per set of policy file paths
// (so one per project that has a project policy), replaced when its
// content changes.
//
// A cache file that is unreadable, truncated, corrupt or of another format
// is a miss, never an error, and a cache directory that cannot be written
// only means nothing is cached. A cache file that another user owns or
// can write to, or in a directory that another user owns or can write to,
// is a miss too, and nothing is written to such a directory. A Program
// from the cache compiles each rule's patterns the first time a call
// reaches the rule, so a hit costs little more than reading the sources;
// its decisions are those of the Program Load returns, and it is as safe
// for concurrent use.
//
// The status says whether the cache was used; it is CacheOff when
// cacheDir is "". On error the Program is nil.
func LoadCached(o LoadOptions, cacheDir string) (*Program, CacheStatus, error) {
	var id string
	if cacheDir != "" {
		id = executableID()
	}
	if id == "" {
		p, err := Load(o)
		return p, CacheOff, err
	}
	srcs, err := o.sources(false)
	if err != nil {
		return nil, CacheMiss, err
	}
	home := o.home()
	slot, key := cacheKey(id, home, srcs)
	// Each program (rampart, rampart-sh) has its own files: they have
	// different build IDs, and sharing a slot would make them rewrite
	// each other's cache on every call.
	file := filepath.Join(cacheDir, "policy-"+slot+"-"+executableName()+".cache")
	if p := readCache(file, key, home); p != nil {
		return p, CacheHit, nil
	}
	if srcs, err = withProfileData(srcs); err != nil {
		return nil, CacheMiss, err
	}
	p, err := Compile(Options{Home: home}, srcs...)
	if err != nil {
		return nil, CacheMiss, err
	}
	_ = writeCache(file, key, p) // a cache that cannot be written is no cache
	return p, CacheMiss, nil
}

// cacheKey returns the name of the cache slot for a set of sources (their
// paths, order and home: one file per project, not per edit) and the key
// that a slot's content must match (also the sources' content and the
// executable's build ID).
func cacheKey(buildID, home string, srcs []Source) (slot string, key [sha256.Size]byte) {
	h := sha256.New()
	field := func(s []byte) { // length-prefixed, so fields cannot run together
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write(s)
	}
	field([]byte(cacheMagic))
	field([]byte(home))
	for _, src := range srcs {
		field([]byte{byte(src.Origin)})
		field([]byte(src.Name))
		field([]byte(src.Path))
	}
	slotSum := h.Sum(nil)
	field([]byte(buildID))
	for _, src := range srcs {
		// An embedded profile is part of the executable, which the build
		// ID names; a file is keyed on its content.
		if src.Origin != OriginProfile {
			field(src.Data)
		}
	}
	h.Sum(key[:0])
	return fmt.Sprintf("%x", slotSum[:12]), key
}

// A cache file is cacheMagic, the key, the SHA-256 of the snapshot, and
// the snapshot (see encodeSnapshot). The checksum catches a file that a
// crash or a full disk left truncated or garbled, so files need no fsync.
// (CRC-32C is no cheaper for one read per process: building its tables
// costs more than SHA-256 of the snapshot.)
const cacheHeaderLen = sha256.Size * 2

// readCache returns the Program in file when the file holds one for key,
// else nil. Only a file that no one but the user could have written is
// read (see [privateToUser]): the key is no secret, so anyone who could
// write the file could give it any program.
func readCache(file string, key [sha256.Size]byte, home string) *Program {
	if !privateDir(filepath.Dir(file)) {
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() || !privateToUser(info) {
		return nil
	}
	buf := bytes.NewBuffer(make([]byte, 0, info.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(f); err != nil {
		return nil
	}
	data := buf.Bytes()
	if !bytes.HasPrefix(data, []byte(cacheMagic)) {
		return nil
	}
	data = data[len(cacheMagic):]
	if len(data) < cacheHeaderLen || !bytes.Equal(data[:sha256.Size], key[:]) {
		return nil
	}
	sum, payload := data[sha256.Size:cacheHeaderLen], data[cacheHeaderLen:]
	if got := sha256.Sum256(payload); !bytes.Equal(got[:], sum) || len(payload) == 0 {
		return nil
	}
	// The Program's strings point into payload, which nothing writes to
	// from here on: a copy would only cost time.
	p, err := decodeSnapshot(unsafe.String(&payload[0], len(payload)), home)
	if err != nil {
		return nil
	}
	return p
}

// writeCache replaces file with p's snapshot under key: written to a
// temporary file in the same directory and renamed, so readers see the old
// file or the new one, never a mix.
func writeCache(file string, key [sha256.Size]byte, p *Program) error {
	payload := encodeSnapshot(nil, p)
	data := make([]byte, 0, len(cacheMagic)+cacheHeaderLen+len(payload))
	data = append(data, cacheMagic...)
	data = append(data, key[:]...)
	sum := sha256.Sum256(payload)
	data = append(data, sum[:]...)
	data = append(data, payload...)

	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// A folder of ours that others may write to (made under umask 002)
	// is tightened; one of another user's is left alone, and not used.
	if info, err := os.Stat(dir); err == nil && fileOwner(info) == os.Geteuid() && info.Mode().Perm()&0o022 != 0 {
		os.Chmod(dir, info.Mode().Perm()&^0o022)
	}
	if !privateDir(dir) {
		return fmt.Errorf("%s: others can write to it: not caching there", dir)
	}
	tmp, err := os.CreateTemp(dir, ".policy-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// executableName is the running program's file name, reduced to safe
// characters, for naming its cache files.
func executableName() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	name := []byte(filepath.Base(exe))
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			name[i] = '_'
		}
	}
	return string(name)
}

// privateDir reports whether dir is a directory that only the user can
// change (see [privateToUser]): otherwise another user could replace the
// files in it.
func privateDir(dir string) bool {
	info, err := os.Stat(dir)
	return err == nil && info.IsDir() && privateToUser(info)
}

// privateToUser reports whether the file info describes can be changed
// only by the user running this process: it is owned by the effective user
// and neither its group nor others may write to it. Where files have no
// owner IDs (Windows) there is nothing to check.
func privateToUser(info os.FileInfo) bool {
	euid := os.Geteuid()
	if euid < 0 {
		return true
	}
	return info.Mode().Perm()&0o022 == 0 && fileOwner(info) == euid
}
