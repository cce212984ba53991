package tool

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Pin is a certificate a server's verified chain must contain: by SHA-1
// thumbprint (as Microsoft publishes them) or SHA-256, optionally with the
// common name it must have, optionally only for hosts under one suffix, and
// only until it expires.
type Pin struct {
	Name       string `json:"name"`
	SHA1       string `json:"sha1,omitempty"`
	SHA256     string `json:"sha256,omitempty"`
	CommonName string `json:"commonName,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// Expires is the certificate's expiry, yyyy-mm-dd; after it the pin
	// counts for nothing.
	Expires string `json:"expires,omitempty"`
	// Host, when set, is the host suffix the pin counts for (a national
	// cloud's CA pins nothing elsewhere).
	Host string `json:"host,omitempty"`
	Note string `json:"note,omitempty"`

	sha1   []byte
	sha256 []byte
	until  time.Time
}

//go:embed pins.json
var builtinPins []byte

// pinFile is the format of pins.json and of a --pins file.
type pinFile struct {
	Source string `json:"source,omitempty"`
	Pins   []Pin  `json:"pins"`
}

// BuiltinPins returns Microsoft's published Azure certificate authorities.
func BuiltinPins() []Pin {
	pins, err := ParsePins(builtinPins)
	if err != nil {
		panic("tool: built-in pins.json: " + err.Error())
	}
	return pins
}

// ParsePins reads a pin file: {"pins": [{"name", "sha1" or "sha256",
// "commonName", "expires", "host"}, ...]}.
func ParsePins(data []byte) ([]Pin, error) {
	var f pinFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("pin file: %v", err)
	}
	if len(f.Pins) == 0 {
		return nil, fmt.Errorf("pin file has no pins")
	}
	for i := range f.Pins {
		if err := f.Pins[i].compile(); err != nil {
			return nil, fmt.Errorf("pin %d (%s): %v", i+1, f.Pins[i].Name, err)
		}
	}
	return f.Pins, nil
}

// ParsePin reads a --pin flag: THUMBPRINT[=COMMON NAME], the thumbprint SHA-1
// as Windows shows it or SHA-256 as 64 hex digits.
func ParsePin(s string) (Pin, error) {
	thumb, cn, _ := strings.Cut(s, "=")
	digits, err := hexDigits(thumb)
	if err != nil {
		return Pin{}, err
	}
	p := Pin{Name: "pinned by flag", CommonName: strings.TrimSpace(cn)}
	switch len(digits) {
	case 40:
		p.SHA1 = digits
	case 64:
		p.SHA256 = digits
	default:
		return Pin{}, fmt.Errorf("pin %q has %d hex digits, want 40 (SHA-1) or 64 (SHA-256)", thumb, len(digits))
	}
	return p, p.compile()
}

// PinOf pins one certificate by its thumbprint.
func PinOf(c *x509.Certificate, name string) Pin {
	t := ThumbprintOf(c)
	p := Pin{Name: name, SHA1: t.String()}
	p.compile()
	return p
}

func (p *Pin) compile() error {
	var err error
	if p.SHA1 != "" {
		t, terr := ParseThumbprint(p.SHA1)
		if terr != nil {
			return terr
		}
		p.sha1 = t[:]
	}
	if p.SHA256 != "" {
		d, _ := hexDigits(p.SHA256)
		if p.sha256, err = hex.DecodeString(d); err != nil || len(p.sha256) != sha256.Size {
			return fmt.Errorf("sha256 %q is not 64 hex digits", p.SHA256)
		}
	}
	if p.sha1 == nil && p.sha256 == nil {
		return fmt.Errorf("no sha1 or sha256 thumbprint")
	}
	if p.Expires != "" {
		if p.until, err = time.Parse("2006-01-02", p.Expires); err != nil {
			return fmt.Errorf("expires %q is not yyyy-mm-dd", p.Expires)
		}
		p.until = p.until.Add(24 * time.Hour)
	}
	return nil
}

// Matches reports whether the pin covers certificate c for host at now.
func (p *Pin) Matches(c *x509.Certificate, host string, now time.Time) bool {
	if !p.until.IsZero() && !now.Before(p.until) {
		return false
	}
	if p.Host != "" && !HostMatches(host, p.Host) {
		return false
	}
	if p.CommonName != "" && !strings.EqualFold(c.Subject.CommonName, p.CommonName) {
		return false
	}
	if p.sha1 != nil {
		t := ThumbprintOf(c)
		return bytes.Equal(t[:], p.sha1)
	}
	sum := sha256.Sum256(c.Raw)
	return bytes.Equal(sum[:], p.sha256)
}

// PinError says that no verified chain contained a pinned certificate.
type PinError struct {
	Host  string
	Chain []*x509.Certificate
}

func (e *PinError) Error() string {
	var names []string
	for _, c := range e.Chain {
		names = append(names, fmt.Sprintf("%s (%s)", Printable(c.Subject.CommonName), ThumbprintOf(c)))
	}
	return fmt.Sprintf("the certificate chain of %s contains no pinned certificate: %s", Printable(e.Host), strings.Join(names, " <- "))
}

// CheckPins accepts the verified chains of host when one of them contains a
// certificate a pin covers, and returns that pin.
func CheckPins(chains [][]*x509.Certificate, host string, pins []Pin, now time.Time) (*Pin, error) {
	for _, chain := range chains {
		for _, c := range chain {
			for i := range pins {
				if pins[i].Matches(c, host, now) {
					return &pins[i], nil
				}
			}
		}
	}
	e := &PinError{Host: host}
	if len(chains) > 0 {
		e.Chain = chains[0]
	}
	return nil, e
}
