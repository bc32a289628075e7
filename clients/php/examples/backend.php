<?php
/*
 * A sample backend for msgo's proxy, in plain PHP:
 *
 *     MSGO_PROXY_TOKEN=s3cret php -S 127.0.0.1:8080 clients/php/examples/backend.php
 *
 *     MSGO_PROXY_ENDPOINT=http://127.0.0.1:8080 MSGO_PROXY_TOKEN=s3cret \
 *     MSGO_PROXY_METHODS=shop MSGO_PROXY_CONNECT=true MSGO_PROXY_DISCONNECT=true bin/msgo start
 *
 * /connect   accepts every user but "banned" (403), puts the connection in the
 *            room "lobby" and in the room of its token's code, and greets it
 *            with a sys.connect frame;
 * /rpc       answers shop.order.create {sku, qty} with the created order, 400
 *            for a bad sku or qty, 404 for any other forwarded method;
 * /disconnect appends each ended connection to a JSON-lines file
 *            (MSGO_BACKEND_EVENTS, default <tmp>/msgo-disconnects.jsonl), once
 *            per event_id however often msgo retries it.
 */
declare(strict_types=1);

require __DIR__ . '/../autoload.php'; // or Composer's vendor/autoload.php

use Msgo\Exception\BadRequest;
use Msgo\Exception\NotFound;
use Msgo\Proxy;
use Msgo\Proxy\Request;

final class SampleBackend
{
    public function __construct(private readonly string $eventsFile)
    {
    }

    public function connect(Request $req): array
    {
        $user = $req->client;
        if ($user->id === 'banned') {
            return Proxy::refuse(403, 'this account is banned');
        }
        $rooms = ['lobby'];
        if ($user->code !== '') {
            $rooms[] = $user->code;
        }
        return Proxy::accept($rooms, [
            'welcome' => 'hello ' . ($user->nickname !== '' ? $user->nickname : $user->id),
            'rooms' => $rooms,
            'time' => (int) (microtime(true) * 1000),
        ]);
    }

    public function rpc(Request $req): array
    {
        return match ($req->method) {
            'shop.order.create' => $this->createOrder($req),
            default => throw new NotFound("no such method: {$req->method}"),
        };
    }

    public function disconnect(Request $req): array
    {
        $event = [
            'event_id' => $req->eventId,
            'conn' => $req->client->conn,
            'node' => $req->client->node,
            'id' => $req->client->id,
            'type' => $req->client->type,
            'code' => $req->code,
            'reason' => $req->reason,
            'time' => $req->time,
            'duration_ms' => $req->durationMs,
        ];
        $this->appendOnce($event);
        return Proxy::ok();
    }

    private function createOrder(Request $req): array
    {
        $sku = $req->param['sku'] ?? null;
        $qty = $req->param['qty'] ?? 1;
        if (!is_string($sku) || $sku === '') {
            throw new BadRequest('sku: required, a string');
        }
        if (!is_int($qty) || $qty < 1 || $qty > 99) {
            throw new BadRequest('qty: an integer from 1 to 99');
        }
        $order = [
            'id' => 'o' . bin2hex(random_bytes(6)),
            'sku' => $sku,
            'qty' => $qty,
            'user' => $req->client->id,
            'node' => $req->client->node,
        ];
        return Proxy::reply(200, 'order created', ['order' => $order]);
    }

    /** Appends the event unless its event_id is already in the file. */
    private function appendOnce(array $event): void
    {
        $f = fopen($this->eventsFile, 'c+');
        if ($f === false) {
            throw new RuntimeException("open {$this->eventsFile}");
        }
        try {
            flock($f, LOCK_EX);
            while (($line = fgets($f)) !== false) {
                if ((json_decode($line, true)['event_id'] ?? null) === $event['event_id']) {
                    return; // a retry of an event we already have
                }
            }
            fwrite($f, json_encode($event, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES) . "\n");
            fflush($f);
        } finally {
            flock($f, LOCK_UN);
            fclose($f);
        }
    }
}

$events = getenv('MSGO_BACKEND_EVENTS') ?: sys_get_temp_dir() . '/msgo-disconnects.jsonl';
(new Proxy(getenv('MSGO_PROXY_TOKEN') ?: ''))->serve(new SampleBackend($events));
