package engine

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"sync"
)

// executableID returns the Go build ID of the running executable, or ""
// when it cannot be read (then nothing is cached). The build ID changes
// whenever any code or embedded file that went into the binary changes,
// so a cache written by one build is never read by another, even between
// development builds that carry the same version.
var executableID = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	// The ID is in the first page of the executables Go builds for Linux;
	// the Go toolchain looks for it in the first 32 KiB.
	for _, size := range []int{4 << 10, 32 << 10} {
		head := make([]byte, size)
		n, err := f.ReadAt(head, 0)
		if err != nil && err != io.EOF {
			return ""
		}
		if id := readBuildID(head[:n]); id != "" || n < size {
			return id
		}
	}
	return ""
})

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
	var phoff uint64
	var phentsize, phnum int
	if is64 {
		phoff = order.Uint64(head[32:])
		phentsize, phnum = int(order.Uint16(head[54:])), int(order.Uint16(head[56:]))
	} else {
		phoff = uint64(order.Uint32(head[28:]))
		phentsize, phnum = int(order.Uint16(head[42:])), int(order.Uint16(head[44:]))
	}
	for i := range phnum {
		off := phoff + uint64(i*phentsize)
		if off+uint64(phentsize) > uint64(len(head)) || phentsize < 32 {
			return ""
		}
		ph := head[off:]
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
