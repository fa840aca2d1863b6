package asana_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tandem-sync/tandem/connectors/asana"
)

func TestUploadDownloadByteIdentical(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	task, err := e.client.CreateTask(c, asana.NewTask{Project: e.project(t, "Test").GID, Name: "with files"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	files := []struct {
		name string
		data []byte
	}{
		{"report.bin", randomBytes(rng, 3<<20+17)},
		{"résumé d’été \"final\".txt", []byte("unicode name, quotes and all\n")},
		{"empty.txt", nil},
	}
	for _, f := range files {
		opens := 0
		att, err := e.client.UploadAttachment(c, asana.Upload{
			Parent: task.GID, Name: f.name, Size: int64(len(f.data)), ContentType: "application/octet-stream",
			Open: func() (io.ReadCloser, error) { opens++; return io.NopCloser(bytes.NewReader(f.data)), nil },
		})
		if err != nil {
			t.Fatalf("upload %q: %v", f.name, err)
		}
		if opens != 1 {
			t.Errorf("upload %q opened the file %d times, want once", f.name, opens)
		}
		if att.Name != f.name || att.Size != int64(len(f.data)) {
			t.Errorf("uploaded %q (%d bytes) came back as %q (%d bytes)", f.name, len(f.data), att.Name, att.Size)
		}
		rc, meta, err := e.client.Download(c, att.GID)
		if err != nil {
			t.Fatalf("download %q: %v", f.name, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil {
			t.Fatalf("reading %q: %v", f.name, err)
		}
		if want := sha256.Sum256(f.data); !bytes.Equal(h.Sum(nil), want[:]) || n != int64(len(f.data)) {
			t.Errorf("%q: downloaded %d bytes with a different sha256 from the %d uploaded", f.name, n, len(f.data))
		}
		if meta.Name != f.name {
			t.Errorf("download metadata name %q, want %q", meta.Name, f.name)
		}
	}
	listed, err := e.client.Attachments(c, task.GID)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(files) {
		t.Fatalf("listed %d attachments, want %d", len(listed), len(files))
	}
	for i, a := range listed {
		if a.Name != files[i].name || a.Size != int64(len(files[i].data)) || a.DownloadURL == "" {
			t.Errorf("listed[%d] = %+v, want %q of %d bytes with its download URL", i, a, files[i].name, len(files[i].data))
		}
	}
	e.requireValidated(t)
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// failReader fails the test if anything reads it: the point is that nothing
// should.
type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("the oversized file was read")
	return 0, io.EOF
}

func (failReader) Close() error { return nil }

func TestUploadOverLimitRefusedBeforeSending(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	task, err := e.client.CreateTask(c, asana.NewTask{Project: e.project(t, "Test").GID, Name: "too big"})
	if err != nil {
		t.Fatal(err)
	}
	before := e.sb.Requests()
	_, err = e.client.UploadAttachment(c, asana.Upload{
		Parent: task.GID, Name: "huge.iso", Size: 101 << 20,
		Open: func() (io.ReadCloser, error) { return failReader{t}, nil },
	})
	if !errors.Is(err, asana.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if n := e.sb.Requests() - before; n != 0 {
		t.Errorf("%d requests reached the server, want none", n)
	}
}

func TestUploadSizeMismatchIsAnError(t *testing.T) {
	e := start(t, nil)
	c := ctx(t)
	task, err := e.client.CreateTask(c, asana.NewTask{Project: e.project(t, "Test").GID, Name: "liar"})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("twelve bytes")
	for _, size := range []int64{int64(len(data)) - 2, int64(len(data)) + 2} {
		opens := 0
		_, err := e.client.UploadAttachment(c, asana.Upload{Parent: task.GID, Name: "liar.txt", Size: size,
			Open: func() (io.ReadCloser, error) { opens++; return io.NopCloser(bytes.NewReader(data)), nil }})
		if err == nil || !strings.Contains(err.Error(), "announced size") {
			t.Errorf("a %d-byte file announced as %d bytes: err = %v, want a size mismatch", len(data), size, err)
		}
		if opens != 1 {
			t.Errorf("a file whose size is wrong was sent %d times; retrying can't help", opens)
		}
	}
	listed, err := e.client.Attachments(c, task.GID)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 0 {
		t.Errorf("a mismatched upload left %d attachments behind", len(listed))
	}
}
