package store

import (
	"database/sql"
	"testing"
)

// A twin's fields survive a round trip through the table, the other
// side's kept type included, and a later put replaces them.
func TestTwinRoundTrip(t *testing.T) { onEngines(t, testTwinRoundTrip) }

func testTwinRoundTrip(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	if err := s.CreateConnection(ctx, nil, testConnection("a")); err != nil {
		t.Fatal(err)
	}
	put := func(tw Twin) {
		t.Helper()
		if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.PutTwin(ctx, tx, tw) }); err != nil {
			t.Fatal(err)
		}
	}
	want := Twin{ConnectionID: "a", LocalID: "1207", RemoteID: "10004", LocalKey: "1207", RemoteKey: "KAN-5",
		Fields: map[string]string{"type": "fp1 2026-01-02T03:04:05Z"}, RemoteType: "Bug"}
	put(want)
	got, err := s.TwinByRemote(ctx, nil, "a", "10004")
	if err != nil {
		t.Fatal(err)
	}
	if got.RemoteType != "Bug" || got.RemoteKey != "KAN-5" || got.Fields["type"] != want.Fields["type"] {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
	want.RemoteType = ""
	put(want)
	if got, err = s.Twin(ctx, nil, "a", "1207"); err != nil || got.RemoteType != "" {
		t.Fatalf("after clearing the kept type: %+v, %v", got, err)
	}
}
