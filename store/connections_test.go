package store

import (
	"bytes"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// testConnection is a valid pending connection with the given id.
func testConnection(id string) Connection {
	return Connection{
		ID: id, Name: "conn " + id, Role: RoleInitiator, Mode: "basic",
		LocalProject: "p-" + id, LocalProjectName: "Project " + id,
		RemoteURL: "http://127.0.0.1:7002",
	}
}

func TestConnectionLifecycle(t *testing.T) { onEngines(t, testConnectionLifecycle) }

func testConnectionLifecycle(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()

	if _, err := s.Connection(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Connection(nope): err = %v, want ErrNotFound", err)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c"} {
		c := testConnection(id)
		c.CreatedAt = base.Add(time.Duration(i) * time.Second)
		if id == "b" {
			c.Local, c.TriggerNewTasks = true, true
		}
		if err := s.CreateConnection(ctx, nil, c); err != nil {
			t.Fatalf("CreateConnection(%s): %v", id, err)
		}
	}
	if err := s.CreateConnection(ctx, nil, testConnection("a")); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate CreateConnection: err = %v, want ErrExists", err)
	}

	got, err := s.Connection(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	want := testConnection("b")
	if got.Name != want.Name || got.Role != RoleInitiator || got.Mode != "basic" ||
		got.Status != StatusPending || got.LocalProject != want.LocalProject ||
		got.LocalProjectName != want.LocalProjectName || got.RemoteURL != want.RemoteURL ||
		!got.Local || !got.TriggerNewTasks || got.KeyCipher != nil || got.RemoteID != "" ||
		!got.CreatedAt.Equal(base.Add(time.Second)) || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("Connection(b) = %+v", got)
	}

	list, err := s.Connections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	if len(ids) != 3 || ids[0] != "c" || ids[1] != "b" || ids[2] != "a" {
		t.Errorf("Connections order = %v, want [c b a]", ids)
	}

	act := Activation{
		RemoteID: "remote-a", RemoteName: "Beta", RemoteURL: "http://127.0.0.1:7003",
		RemoteInstanceID: "inst-beta", RemoteTracker: "asana", RemoteProjectName: "Their project",
		KeyCipher: []byte{1, 2, 3},
	}
	if err := s.ActivateConnection(ctx, nil, "a", act); err != nil {
		t.Fatalf("ActivateConnection: %v", err)
	}
	// An Active connection is never re-pointed at another peer or key.
	hijack := act
	hijack.RemoteURL, hijack.KeyCipher = "http://attacker.example", []byte{9}
	if err := s.ActivateConnection(ctx, nil, "a", hijack); !errors.Is(err, ErrNotFound) {
		t.Errorf("activating an active connection again: err = %v, want ErrNotFound", err)
	}
	got, err = s.Connection(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusActive || got.StatusReason != "" || got.RemoteID != act.RemoteID ||
		got.RemoteName != act.RemoteName || got.RemoteURL != act.RemoteURL ||
		got.RemoteInstanceID != act.RemoteInstanceID || got.RemoteTracker != act.RemoteTracker ||
		got.RemoteProjectName != act.RemoteProjectName || !bytes.Equal(got.KeyCipher, act.KeyCipher) ||
		!got.UpdatedAt.After(got.CreatedAt) {
		t.Errorf("after activation Connection(a) = %+v", got)
	}
	if got.Name != testConnection("a").Name {
		t.Errorf("activation without a name renamed the connection to %q", got.Name)
	}
	act.Name = "Alpha ↔ Beta"
	if err := s.ActivateConnection(ctx, nil, "b", act); err != nil {
		t.Fatalf("ActivateConnection with a name: %v", err)
	}
	if got, err = s.Connection(ctx, "b"); err != nil || got.Name != act.Name || got.Status != StatusActive {
		t.Errorf("after renaming activation Connection(b) = %+v, %v", got, err)
	}
	if err := s.ActivateConnection(ctx, nil, "nope", act); !errors.Is(err, ErrNotFound) {
		t.Errorf("ActivateConnection(nope): err = %v, want ErrNotFound", err)
	}

	if err := s.SetConnectionStatus(ctx, "a", StatusDeactivated, "paused by admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTrigger(ctx, "a", true); err != nil {
		t.Fatal(err)
	}
	got, err = s.Connection(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusDeactivated || got.StatusReason != "paused by admin" || !got.TriggerNewTasks {
		t.Errorf("after status/trigger Connection(a) = %+v", got)
	}
	if err := s.SetConnectionStatus(ctx, "a", "sleeping", ""); err == nil {
		t.Error("SetConnectionStatus accepted an invalid status")
	}
	if err := s.SetConnectionStatus(ctx, "nope", StatusActive, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetConnectionStatus(nope): err = %v, want ErrNotFound", err)
	}
	if err := s.SetTrigger(ctx, "nope", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetTrigger(nope): err = %v, want ErrNotFound", err)
	}

	if err := s.DeleteConnection(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Connection(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteConnection(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
}

func TestCreateConnectionValidates(t *testing.T) { onEngines(t, testCreateConnectionValidates) }

func testCreateConnectionValidates(t *testing.T, e testEngine) {
	s := e.open(t)
	for name, mutate := range map[string]func(*Connection){
		"no id":      func(c *Connection) { c.ID = "" },
		"bad role":   func(c *Connection) { c.Role = "boss" },
		"bad mode":   func(c *Connection) { c.Mode = "" },
		"bad status": func(c *Connection) { c.Status = "sleeping" },
	} {
		c := testConnection("x")
		mutate(&c)
		if err := s.CreateConnection(t.Context(), nil, c); err == nil {
			t.Errorf("%s: CreateConnection succeeded", name)
		}
	}
}

func TestDeleteConnectionCascades(t *testing.T) { onEngines(t, testDeleteConnectionCascades) }

func testDeleteConnectionCascades(t *testing.T, e testEngine) {
	s := e.open(t)
	ctx := t.Context()
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.CreateConnection(ctx, tx, testConnection("a")); err != nil {
			return err
		}
		return s.CreateInvitation(ctx, tx, Invitation{
			ConnectionID: "a", SecretHash: []byte("h"), ExpiresAt: time.Now().Add(time.Hour),
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConnection(ctx, nil, testConnection("b")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := s.SeenNonce(ctx, id, "n1", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteConnection(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Invitation(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("invitation after delete: err = %v, want ErrNotFound", err)
	}
	count := func(id string) int {
		var n int
		if err := s.DB().QueryRowContext(ctx,
			"SELECT COUNT(*) FROM nonces WHERE connection_id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("a"); n != 0 {
		t.Errorf("nonces of deleted connection = %d, want 0", n)
	}
	if n := count("b"); n != 1 {
		t.Errorf("nonces of other connection = %d, want 1", n)
	}
}
