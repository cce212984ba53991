package clientcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
)

// ExecCmd is `ses client exec`: run a program while holding a lease.
type ExecCmd struct {
	LeaseFlags `embed:""`
	Grace      time.Duration `help:"After a refused renewal, how long the program has to stop after SIGTERM before SIGKILL." default:"${default_grace}"`
	Command    []string      `arg:"" passthrough:"" help:"The program and its arguments, after --; the lease is renewed when half of it has passed." placeholder:"PROGRAM"`
}

// Run acquires a lease, runs the program, keeps the lease renewed, releases
// it when the program ends and exits with the program's code. A refused
// renewal stops the program and exits 1.
func (c *ExecCmd) Run(g *cli.Globals) error {
	if len(c.Command) > 0 && c.Command[0] == "--" {
		c.Command = c.Command[1:]
	}
	if len(c.Command) == 0 {
		return cli.Usagef("no program to run").Hint("ses client exec --app APP -- PROGRAM ARGS...")
	}
	cl, lease, err := c.acquire(g)
	if err != nil {
		return err
	}
	g.Log.Info().Str("id", lease.ID).Time("expiry", lease.Expiry).Msg("lease acquired")
	release := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cl.Release(ctx, lease.ID); err != nil {
			g.Log.Warn().Err(err).Str("id", lease.ID).Msg("lease release failed")
			return
		}
		g.Log.Info().Str("id", lease.ID).Msg("lease released")
	}

	cmd := exec.Command(c.Command[0], c.Command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = g.Stdin, g.Stdout, g.Stderr
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		release()
		return cli.Usagef("starting %s: %v", c.Command[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	refused := make(chan error, 1)
	go c.keepRenewed(ctx, g, cl, lease, refused)

	for {
		select {
		case sig := <-signals:
			cmd.Process.Signal(sig)
		case err := <-exited:
			stop()
			release()
			return exitOf(err)
		case why := <-refused:
			g.Log.Warn().Err(why).Msg("lease renewal refused: stopping the program")
			c.stop(cmd, exited)
			release()
			return &cli.Error{Code: cli.ExitNo, Err: fmt.Errorf("lease %s renewal refused (%v): stopped %s", lease.ID, why, c.Command[0])}
		}
	}
}

// keepRenewed renews the lease when half of it has passed. A definite
// refusal, or an expiry reached without a renewal, is sent on refused.
func (c *ExecCmd) keepRenewed(ctx context.Context, g *cli.Globals, cl *client.Client, lease *client.Lease, refused chan<- error) {
	expiry := lease.Expiry
	wait := time.Until(expiry) / 2
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		next, err := cl.Renew(ctx, lease.ID, c.Duration)
		var denied *client.DeniedError
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			expiry = next
			wait = time.Until(expiry) / 2
			g.Log.Info().Str("id", lease.ID).Time("expiry", expiry).Msg("lease renewed")
		case errors.As(err, &denied):
			refused <- err
			return
		case !time.Now().Before(expiry):
			refused <- fmt.Errorf("the lease expired without a renewal: %w", err)
			return
		default:
			// Not a "no": try again before the lease runs out.
			wait = time.Until(expiry) / 4
			g.Log.Warn().Err(err).Str("id", lease.ID).Dur("retry_in", wait).Msg("lease renewal failed")
		}
	}
}

// stop sends SIGTERM, then SIGKILL after the grace period.
func (c *ExecCmd) stop(cmd *exec.Cmd, exited <-chan error) {
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		cmd.Process.Kill()
	}
	select {
	case <-exited:
	case <-time.After(c.Grace):
		cmd.Process.Kill()
		<-exited
	}
}

// exitOf passes the program's exit status through.
func exitOf(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return cli.ExitCode(code)
	}
	return cli.Usagef("%v", err)
}
