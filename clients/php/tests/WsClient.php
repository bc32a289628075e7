<?php
declare(strict_types=1);

namespace Msgo\Tests;

/**
 * A minimal WebSocket client over a plain socket, enough for the tests to be
 * a real user of msgo: the handshake (status and headers kept, so a refused
 * one can be asserted), reading server frames, sending masked text frames.
 */
final class WsClient
{
    /** @var resource */
    private $sock;
    private string $buf = '';

    /** The handshake's HTTP status and lower-cased headers. */
    public int $status = 0;
    public array $headers = [];

    /** The close code the server sent, once it closed. */
    public ?int $closeCode = null;

    /**
     * Opens a connection to $url (ws://host:port/path?query) and performs
     * the handshake; check $status (101 when upgraded).
     *
     * @param list<string> $protocols offered in Sec-WebSocket-Protocol
     */
    public function __construct(string $url, array $protocols = [])
    {
        $u = parse_url($url);
        $sock = stream_socket_client("tcp://{$u['host']}:{$u['port']}", $errno, $errstr, 5);
        if ($sock === false) {
            throw new \RuntimeException("dial $url: $errstr");
        }
        $this->sock = $sock;
        stream_set_read_buffer($sock, 0); // so that stream_select sees every byte not yet read
        stream_set_timeout($sock, 5);
        $target = ($u['path'] ?? '/') . (isset($u['query']) ? '?' . $u['query'] : '');
        $req = "GET $target HTTP/1.1\r\nHost: {$u['host']}:{$u['port']}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            . 'Sec-WebSocket-Key: ' . base64_encode(random_bytes(16)) . "\r\nSec-WebSocket-Version: 13\r\n"
            . ($protocols === [] ? '' : 'Sec-WebSocket-Protocol: ' . implode(', ', $protocols) . "\r\n")
            . "\r\n";
        fwrite($sock, $req);
        while (($end = strpos($this->buf, "\r\n\r\n")) === false) {
            if (!$this->fill(5.0)) {
                throw new \RuntimeException("handshake with $url: no answer");
            }
        }
        $lines = explode("\r\n", substr($this->buf, 0, $end));
        $this->buf = substr($this->buf, $end + 4);
        $this->status = (int) (explode(' ', array_shift($lines))[1] ?? 0);
        foreach ($lines as $line) {
            [$k, $v] = array_map('trim', explode(':', $line, 2)) + [1 => ''];
            $this->headers[strtolower($k)] = $v;
        }
    }

    public function __destruct()
    {
        if (is_resource($this->sock)) {
            fclose($this->sock);
        }
    }

    /** Sends one request frame. */
    public function send(array $msg): void
    {
        $payload = json_encode($msg, JSON_UNESCAPED_UNICODE);
        $len = strlen($payload);
        $head = chr(0x81) . match (true) {
            $len < 126 => chr(0x80 | $len),
            $len < 65536 => chr(0x80 | 126) . pack('n', $len),
            default => chr(0x80 | 127) . pack('J', $len),
        };
        $mask = random_bytes(4);
        fwrite($this->sock, $head . $mask . ($payload ^ str_repeat($mask, intdiv($len, 4) + 1)));
    }

    /**
     * Waits for the next frame whose event is $event and returns it, skipping
     * others. Throws when the connection ends or the time runs out.
     */
    public function await(string $event, float $timeout = 5.0): array
    {
        $deadline = microtime(true) + $timeout;
        while (true) {
            $frame = $this->next(max(0.0, $deadline - microtime(true)));
            if ($frame === null) {
                throw new \RuntimeException("no $event frame within {$timeout}s" . ($this->closeCode !== null ? " (closed {$this->closeCode})" : ''));
            }
            if (($frame['event'] ?? null) === $event) {
                return $frame;
            }
        }
    }

    /** Waits until the server closes the connection; returns its close code. */
    public function awaitClose(float $timeout = 5.0): ?int
    {
        $deadline = microtime(true) + $timeout;
        while ($this->closeCode === null && microtime(true) < $deadline) {
            $this->next(max(0.0, $deadline - microtime(true)));
        }
        return $this->closeCode;
    }

    /** The next data frame decoded, or null at a close or the timeout. */
    private function next(float $timeout): ?array
    {
        $deadline = microtime(true) + $timeout;
        while ($this->closeCode === null) {
            $frame = $this->parse();
            if ($frame !== null) {
                [$op, $payload] = $frame;
                if ($op === 0x8) {
                    $this->closeCode = strlen($payload) >= 2 ? unpack('n', $payload)[1] : 1005;
                    return null;
                }
                if ($op === 0x1 || $op === 0x2) {
                    return json_decode($payload, true);
                }
                continue; // ping, pong
            }
            $left = $deadline - microtime(true);
            if ($left <= 0 || !$this->fill($left)) {
                return null;
            }
        }
        return null;
    }

    /** One whole unmasked frame off the buffer, or null when incomplete. */
    private function parse(): ?array
    {
        if (strlen($this->buf) < 2) {
            return null;
        }
        $op = ord($this->buf[0]) & 0x0f;
        $len = ord($this->buf[1]) & 0x7f;
        $at = 2;
        if ($len === 126) {
            if (strlen($this->buf) < 4) {
                return null;
            }
            $len = unpack('n', substr($this->buf, 2, 2))[1];
            $at = 4;
        } elseif ($len === 127) {
            if (strlen($this->buf) < 10) {
                return null;
            }
            $len = unpack('J', substr($this->buf, 2, 8))[1];
            $at = 10;
        }
        if (strlen($this->buf) < $at + $len) {
            return null;
        }
        $payload = substr($this->buf, $at, $len);
        $this->buf = substr($this->buf, $at + $len);
        return [$op, $payload];
    }

    /** Reads what arrives within $timeout; false at end of stream or timeout. */
    private function fill(float $timeout): bool
    {
        $r = [$this->sock];
        $w = $e = null;
        $sec = (int) $timeout;
        if (stream_select($r, $w, $e, $sec, (int) (($timeout - $sec) * 1e6)) < 1) {
            return false;
        }
        $chunk = fread($this->sock, 65536);
        if ($chunk === false || $chunk === '') {
            if (feof($this->sock)) {
                $this->closeCode ??= 1006;
            }
            return false;
        }
        $this->buf .= $chunk;
        return true;
    }
}
