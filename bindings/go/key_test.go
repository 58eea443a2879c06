// SPDX-License-Identifier: Apache-2.0

package kilo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// 32 bytes of 0x01 and its public key, as `wg pubkey` prints it.
const (
	fixedKey       = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
	fixedPublicKey = "pOCSkrZRwni5dyxWn1+puxPZBrRqtoyd+dwrRAn4ogk="
)

func TestPublicKeyOfAKnownKey(t *testing.T) {
	key, err := ParseKey(fixedKey)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	public, err := key.Public()
	if err != nil || public.String() != fixedPublicKey {
		t.Errorf("Public() = %s, %v", public, err)
	}
	if text, err := key.Base64(); text != fixedKey || err != nil {
		t.Errorf("Base64() = %q, %v", text, err)
	}
}

func TestGeneratedKeysDifferAndHaveAPublicKey(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pa, errA := a.Public()
	pb, errB := b.Public()
	if errA != nil || errB != nil || pa == pb || pa == (PublicKey{}) {
		t.Errorf("public keys %s and %s (%v, %v)", pa, pb, errA, errB)
	}
	if again, err := ParsePublicKey(pa.String()); again != pa || err != nil {
		t.Errorf("ParsePublicKey(%s) = %s, %v", pa, again, err)
	}
}

func TestKeyPrintsHidden(t *testing.T) {
	key, err := ParseKey(fixedKey)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	if text := fmt.Sprint(key) + fmt.Sprintf("%v %s", key, key); strings.Contains(text, fixedKey) {
		t.Errorf("printing a key shows it: %s", text)
	}
}

func TestParseKeyRefusesBadTextWithoutQuotingIt(t *testing.T) {
	bad := "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ="
	_, err := ParseKey(bad)
	wantError(t, err, syscall.EINVAL, "43")
	if strings.Contains(err.Error(), bad) {
		t.Errorf("the message quotes the secret: %v", err)
	}
	_, err = ParsePublicKey("not a key")
	wantError(t, err, syscall.EINVAL)
}

func TestKeyFileIsPrivateAndReadsBack(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	path := filepath.Join(t.TempDir(), "private.key")
	if err := key.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", info.Mode(), err)
	}
	again, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	want, _ := key.Public()
	if got, err := again.Public(); got != want || err != nil {
		t.Errorf("read back %s, want %s (%v)", got, want, err)
	}
	os.Chmod(path, 0o644)
	_, err = ReadKeyFile(path)
	wantError(t, err, syscall.EPERM, path)
}

func TestClosedKeyIsWipedAndRefused(t *testing.T) {
	key, err := ParseKey(fixedKey)
	if err != nil {
		t.Fatal(err)
	}
	key.Close()
	key.Close()
	_, err = key.Public()
	wantError(t, err, syscall.EBADF, "key")
	_, err = key.Base64()
	wantError(t, err, syscall.EBADF, "key")
	_, err = loadExample(t, "full-mesh").Solve("db-1", &SolveOptions{PrivateKey: key})
	wantError(t, err, syscall.EBADF, "key")
}

func TestParseCIDRGivesTheLibrarysMessage(t *testing.T) {
	_, err := ParseCIDR("10.0.0.0/33")
	wantError(t, err, syscall.EINVAL)
	if err.Error() != `cidr "10.0.0.0/33": prefix 33 is longer than 32` {
		t.Errorf("message %q", err.Error())
	}
	if p, err := ParseCIDR("10.1.2.3/16"); err != nil || p.String() != "10.1.2.3/16" {
		t.Errorf("ParseCIDR = %v, %v (host bits are kept)", p, err)
	}
}
