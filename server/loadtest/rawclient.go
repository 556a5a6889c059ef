package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// rawConn is a minimal HTTP/1.1 client connection: it writes one
// pre-formatted POST and reads one response with a Content-Length body.
// The load generator shares the machine with the server, so it has to be
// cheap; the preload library's C client is just as bare.
type rawConn struct {
	network, addr string
	keepAlive     bool
	conn          net.Conn
	r             *bufio.Reader
	req           bytes.Buffer
}

func newRawConn(url string, keepAlive bool) (*rawConn, error) {
	c := &rawConn{keepAlive: keepAlive}
	switch {
	case strings.HasPrefix(url, "unix:"):
		c.network, c.addr = "unix", strings.TrimPrefix(url, "unix:")
	case strings.HasPrefix(url, "http://"):
		c.network, c.addr = "tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	default:
		return nil, fmt.Errorf("%s: want http://HOST:PORT or unix:/path", url)
	}
	return c, nil
}

func (c *rawConn) dial() error {
	conn, err := net.DialTimeout(c.network, c.addr, 5*time.Second)
	if err != nil {
		return err
	}
	c.conn = conn
	if c.r == nil {
		c.r = bufio.NewReaderSize(conn, 4096)
	} else {
		c.r.Reset(conn)
	}
	return nil
}

func (c *rawConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// post sends body to path and returns the response status.
func (c *rawConn) post(path, auth string, body []byte) (int, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return 0, err
		}
	}
	c.req.Reset()
	c.req.WriteString("POST ")
	c.req.WriteString(path)
	c.req.WriteString(" HTTP/1.1\r\nHost: rampart\r\nAuthorization: ")
	c.req.WriteString(auth)
	c.req.WriteString("\r\nContent-Type: application/json\r\nContent-Length: ")
	c.req.WriteString(strconv.Itoa(len(body)))
	if !c.keepAlive {
		c.req.WriteString("\r\nConnection: close")
	}
	c.req.WriteString("\r\n\r\n")
	c.req.Write(body)
	if _, err := c.conn.Write(c.req.Bytes()); err != nil {
		c.close()
		return 0, err
	}
	status, err := c.readResponse()
	if err != nil || !c.keepAlive {
		c.close()
	}
	return status, err
}

func (c *rawConn) readResponse() (int, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		if name, value, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return 0, errors.New("response without Content-Length")
	}
	if _, err := c.r.Discard(length); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(c.r, nil); err != nil {
		return 0, err
	}
	return status, nil
}
