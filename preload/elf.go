package preload

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Linkage is how the dynamic loader treats an executable.
type Linkage int

const (
	// Dynamic programs have an interpreter (ld.so), which honours
	// LD_PRELOAD.
	Dynamic Linkage = iota
	// Static programs have no interpreter: LD_PRELOAD never loads, and
	// what they execute directly is not checked.
	Static
	// Unknown means the file could not be read as a program.
	Unknown
)

// ExecutableLinkage reads path (an ELF file, or a #! script, whose
// interpreter is then read) and reports whether LD_PRELOAD can reach it.
func ExecutableLinkage(path string) (Linkage, error) {
	return linkage(path, 0)
}

func linkage(path string, depth int) (Linkage, error) {
	f, err := os.Open(path)
	if err != nil {
		return Unknown, err
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := f.Read(head)
	head = head[:n]
	if bytes.HasPrefix(head, []byte("#!")) {
		if depth > 2 {
			return Unknown, errors.New("too many #! interpreters")
		}
		line, _, _ := bufio.NewReader(bytes.NewReader(head[2:])).ReadLine()
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			return Unknown, fmt.Errorf("%s: empty #! line", path)
		}
		return linkage(fields[0], depth+1)
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return Unknown, fmt.Errorf("%s: not an ELF program or a script: %w", path, err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			return Dynamic, nil
		}
	}
	return Static, nil
}
