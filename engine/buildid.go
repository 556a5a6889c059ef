package engine

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"runtime/debug"
	"sync"
)

// executableID identifies the build of the running executable: its Go
// build ID, which changes whenever any code or embedded file that went into
// the binary changes (so a cache written by one build is never read by
// another, even between development builds that carry the same version),
// and the version and VCS revision it was built from. It is "" when the
// build ID cannot be read; then nothing is cached.
var executableID = sync.OnceValue(func() string {
	f, err := openExecutable()
	if err != nil {
		return ""
	}
	defer f.Close()
	var id string
	// The ID is in the first page of the executables Go builds for Linux;
	// the Go toolchain looks for it in the first 32 KiB.
	for _, size := range []int{4 << 10, 32 << 10} {
		head := make([]byte, size)
		n, err := f.ReadAt(head, 0)
		if err != nil && err != io.EOF {
			return ""
		}
		if id = readBuildID(head[:n]); id != "" || n < size {
			break
		}
	}
	if id == "" {
		return ""
	}
	// Where the file is found by name, it may have been replaced by
	// another build since this process started; the version this process
	// knows it was built from tells at least releases apart.
	if info, ok := debug.ReadBuildInfo(); ok {
		id += " " + info.Main.Version
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" || s.Key == "-ldflags" {
				id += " " + s.Value
			}
		}
	}
	return id
})

// openExecutable opens the running executable: on Linux the process's own
// file, even if its path now names another one.
func openExecutable() (*os.File, error) {
	if f, err := os.Open("/proc/self/exe"); err == nil {
		return f, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return os.Open(exe)
}

// readBuildID finds the Go build ID in the first bytes of an executable:
// in ELF files a note named "Go" of type 4, elsewhere (Mach-O, PE) the
// text the linker writes at the start of the code.
func readBuildID(head []byte) string {
	if bytes.HasPrefix(head, []byte("\x7fELF")) {
		return elfBuildID(head)
	}
	const prefix, suffix = "\xff Go build ID: \"", "\"\n \xff"
	i := bytes.Index(head, []byte(prefix))
	if i < 0 {
		return ""
	}
	rest := head[i+len(prefix):]
	j := bytes.Index(rest, []byte(suffix))
	if j <= 0 {
		return ""
	}
	return string(rest[:j])
}

func elfBuildID(head []byte) string {
	if len(head) < 64 {
		return ""
	}
	var order binary.ByteOrder = binary.LittleEndian
	if head[5] == 2 {
		order = binary.BigEndian
	}
	is64 := head[4] == 2
	var phoff, phentsize uint64
	var phnum int
	minEntry := uint64(32) // an Elf32_Phdr
	if is64 {
		phoff = order.Uint64(head[32:])
		phentsize, phnum = uint64(order.Uint16(head[54:])), int(order.Uint16(head[56:]))
		minEntry = 56 // an Elf64_Phdr
	} else {
		phoff = uint64(order.Uint32(head[28:]))
		phentsize, phnum = uint64(order.Uint16(head[42:])), int(order.Uint16(head[44:]))
	}
	if phentsize < minEntry {
		return ""
	}
	for i := range uint64(phnum) {
		if phoff > uint64(len(head)) || i*phentsize > uint64(len(head))-phoff ||
			phentsize > uint64(len(head))-phoff-i*phentsize {
			return ""
		}
		off := phoff + i*phentsize
		ph := head[off : off+phentsize]
		const ptNote = 4
		if order.Uint32(ph) != ptNote {
			continue
		}
		var noteOff, noteSize uint64
		if is64 {
			noteOff, noteSize = order.Uint64(ph[8:]), order.Uint64(ph[32:])
		} else {
			noteOff, noteSize = uint64(order.Uint32(ph[4:])), uint64(order.Uint32(ph[16:]))
		}
		if noteOff > uint64(len(head)) || noteSize > uint64(len(head))-noteOff {
			continue
		}
		if id, ok := goNote(head[noteOff:noteOff+noteSize], order); ok {
			return id
		}
	}
	return ""
}

// goNote finds the Go build ID note among the notes of one segment.
func goNote(notes []byte, order binary.ByteOrder) (string, bool) {
	align4 := func(n uint64) uint64 { return (n + 3) &^ 3 }
	for len(notes) >= 12 {
		nameSize, descSize, typ := uint64(order.Uint32(notes)), uint64(order.Uint32(notes[4:])), order.Uint32(notes[8:])
		notes = notes[12:]
		if align4(nameSize) > uint64(len(notes)) {
			return "", false
		}
		name := notes[:nameSize]
		notes = notes[align4(nameSize):]
		if descSize > uint64(len(notes)) {
			return "", false
		}
		desc := notes[:descSize]
		const goBuildIDNote = 4
		if typ == goBuildIDNote && string(name) == "Go\x00\x00" && len(desc) > 0 {
			return string(desc), true
		}
		notes = notes[min(align4(descSize), uint64(len(notes))):]
	}
	return "", false
}
