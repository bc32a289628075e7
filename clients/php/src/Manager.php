<?php
declare(strict_types=1);

namespace Msgo;

use Msgo\Exception\MsgoException;
use Msgo\Exception\TransportError;

/**
 * A client of msgo's manager port: one method per call, each returning the
 * answer's data as an array (send calls: ['delivered' => connections
 * reached, cluster-wide]). Any answer other than 2xx throws a MsgoException
 * subclass (BadRequest, Unauthorized, Forbidden, NotFound, ClientError,
 * ServerError) carrying the status and msgo's message; no answer at all
 * throws TransportError.
 *
 *     $msgo = new Manager('http://127.0.0.1:9502', getenv('MSGO_MANAGER_TOKEN') ?: '');
 *     $msgo->sendToUser('o6_bmjrPTlm6', 'order.paid', ['order' => 1024]);
 *
 * Requests carry the bearer token, JSON bodies with Content-Type
 * application/json, and never an Origin header (the manager port refuses
 * browser-like requests). The Host is the base URL's: use a loopback address,
 * localhost, or a host listed in msgo's manager.allowed_hosts.
 *
 * One Manager keeps one curl handle, so consecutive calls reuse the
 * connection; it is not meant to be shared between threads or coroutines.
 */
final class Manager
{
    private string $base;
    private ?\CurlHandle $curl = null;

    /**
     * @param string $baseUrl        the manager port, e.g. http://127.0.0.1:9502
     * @param string $token          manager.token (MSGO_MANAGER_TOKEN); '' sends no Authorization
     * @param float  $timeout        seconds for a whole call
     * @param float  $connectTimeout seconds to connect
     */
    public function __construct(
        string $baseUrl = 'http://127.0.0.1:9502',
        private readonly string $token = '',
        private readonly float $timeout = 5.0,
        private readonly float $connectTimeout = 2.0,
    ) {
        $this->base = rtrim($baseUrl, '/');
    }

    /** GET /api/status: node id, version, uptime, connections, users, rooms, memory, cluster nodes. */
    public function status(): array
    {
        return $this->call('GET', '/api/status');
    }

    /** GET /api/online/count: ['connections' => n, 'users' => n], cluster-wide. */
    public function onlineCount(): array
    {
        return $this->call('GET', '/api/online/count');
    }

    /** GET /api/online/users: ['users' => [['id','type'], ...], 'count' => n], each user once. */
    public function onlineUsers(?string $type = null): array
    {
        return $this->call('GET', '/api/online/users', self::some(['type' => $type]));
    }

    /** GET /api/online/check: ['id' => id, 'is_online' => bool]. */
    public function onlineCheck(string|int $id, ?string $type = null): array
    {
        return $this->call('GET', '/api/online/check', self::some(['id' => $id, 'type' => $type]));
    }

    /** POST /api/send/user: push event to every connection of one user. */
    public function sendToUser(string|int $id, string $event, array|object $param = [], ?string $type = null, ?string $info = null): array
    {
        return $this->call('POST', '/api/send/user', self::some(['id' => $id, 'type' => $type, 'event' => $event, 'param' => self::object($param), 'info' => $info]));
    }

    /** POST /api/send/users: the same push to many users. */
    public function sendToUsers(array $ids, string $event, array|object $param = [], ?string $type = null, ?string $info = null): array
    {
        return $this->call('POST', '/api/send/users', self::some(['ids' => array_values($ids), 'type' => $type, 'event' => $event, 'param' => self::object($param), 'info' => $info]));
    }

    /** POST /api/broadcast: every connection, but the user excludeId's. */
    public function broadcast(string $event, array|object $param = [], string|int|null $excludeId = null, ?string $info = null): array
    {
        return $this->call('POST', '/api/broadcast', self::some(['event' => $event, 'param' => self::object($param), 'exclude_id' => $excludeId, 'info' => $info]));
    }

    /** POST /api/send/room: every connection joined to the room. */
    public function sendToRoom(string $room, string $event, array|object $param = [], ?string $info = null): array
    {
        return $this->call('POST', '/api/send/room', self::some(['room' => $room, 'event' => $event, 'param' => self::object($param), 'info' => $info]));
    }

    /** POST /api/notify: push system.notice {title, message, level, time} to ids, or everyone. */
    public function notify(string $title, string $message, string $level = 'info', ?array $ids = null): array
    {
        return $this->call('POST', '/api/notify', self::some(['title' => $title, 'message' => $message, 'level' => $level, 'ids' => $ids === null ? null : array_values($ids)]));
    }

    /** POST /api/data-update: push data.update {resource_type, action, data} to ids, a room, or everyone. */
    public function dataUpdate(string $resourceType, string $action, mixed $data, ?array $ids = null, ?string $room = null): array
    {
        $body = self::some(['ids' => $ids === null ? null : array_values($ids), 'room' => $room, 'resource_type' => $resourceType, 'action' => $action]);
        $body['data'] = $data; // data may be null on purpose
        return $this->call('POST', '/api/data-update', $body);
    }

    /** POST /api/disconnect/user: close that user's connections, on every node, with 1008. */
    public function disconnectUser(string|int $id, ?string $type = null): array
    {
        return $this->call('POST', '/api/disconnect/user', self::some(['id' => $id, 'type' => $type]));
    }

    /** POST /api/room/join: every connection of the user, on every node, joins the room; ['joined' => n]. */
    public function roomJoin(string|int $id, string $room, ?string $type = null): array
    {
        return $this->call('POST', '/api/room/join', self::some(['id' => $id, 'type' => $type, 'room' => $room]));
    }

    /** POST /api/room/leave: they leave it; ['left' => n]. */
    public function roomLeave(string|int $id, string $room, ?string $type = null): array
    {
        return $this->call('POST', '/api/room/leave', self::some(['id' => $id, 'type' => $type, 'room' => $room]));
    }

    /** GET /api/room/users: ['users' => [['id','type','nickname'], ...], 'count' => n]; limit 1..1000, default 100. */
    public function roomUsers(string $room, ?int $limit = null): array
    {
        return $this->call('GET', '/api/room/users', self::some(['room' => $room, 'limit' => $limit]));
    }

    /** GET /api/room/count: ['connections' => n, 'users' => n], cluster-wide. */
    public function roomCount(string $room): array
    {
        return $this->call('GET', '/api/room/count', ['room' => $room]);
    }

    /** GET /api/user/rooms: ['rooms' => [...]], the rooms any of the user's connections is in. */
    public function userRooms(string|int $id, ?string $type = null): array
    {
        return $this->call('GET', '/api/user/rooms', self::some(['id' => $id, 'type' => $type]));
    }

    /** GET /api/openapi.json: the OpenAPI 3.1 document of the manager port, decoded. */
    public function openapi(): array
    {
        [, $body] = $this->request('GET', '/api/openapi.json', null);
        return self::decode($body, 200);
    }

    /** GET /metrics: the Prometheus text exposition. */
    public function metrics(): string
    {
        [, $body] = $this->request('GET', '/metrics', null);
        return $body;
    }

    /**
     * Any call by method and path, for calls newer than this client: the
     * query (GET) or JSON body (POST) is $input; returns the answer's data.
     *
     * @throws MsgoException
     */
    public function call(string $method, string $path, array $input = []): array
    {
        if ($method === 'GET') {
            [$status, $body] = $this->request('GET', $path . ($input === [] ? '' : '?' . http_build_query(self::queryValues($input), '', '&', PHP_QUERY_RFC3986)), null);
        } else {
            $json = json_encode($input === [] ? new \stdClass() : $input, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR);
            [$status, $body] = $this->request($method, $path, $json);
        }
        $answer = self::decode($body, $status);
        $data = $answer['data'] ?? [];
        return is_array($data) ? $data : [];
    }

    /**
     * Sends one request; answers [status, body] for a 2xx and throws for
     * anything else.
     *
     * @return array{int, string}
     */
    private function request(string $method, string $pathAndQuery, ?string $json): array
    {
        $headers = ['Accept: application/json', 'Expect:'];
        if ($this->token !== '') {
            $headers[] = 'Authorization: Bearer ' . $this->token;
        }
        if ($json !== null) {
            $headers[] = 'Content-Type: application/json';
        }
        $this->curl ??= curl_init();
        $ch = $this->curl;
        curl_reset($ch);
        curl_setopt_array($ch, [
            CURLOPT_URL => $this->base . $pathAndQuery,
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_NOSIGNAL => true,
            CURLOPT_CONNECTTIMEOUT_MS => (int) ceil($this->connectTimeout * 1000),
            CURLOPT_TIMEOUT_MS => (int) ceil($this->timeout * 1000),
        ]);
        if ($json !== null) {
            curl_setopt($ch, CURLOPT_POSTFIELDS, $json);
        }
        $body = curl_exec($ch);
        if ($body === false) {
            throw new TransportError(sprintf('msgo manager %s %s: %s', $method, $pathAndQuery, curl_error($ch)), 0);
        }
        $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        if ($status < 200 || $status > 299) {
            $answer = json_decode((string) $body, true);
            $message = is_array($answer) && is_string($answer['message'] ?? null) ? $answer['message'] : trim(substr((string) $body, 0, 200));
            $data = is_array($answer) && is_array($answer['data'] ?? null) ? $answer['data'] : [];
            throw MsgoException::forStatus($status, sprintf('msgo manager %s %s: %d %s', $method, strtok($pathAndQuery, '?'), $status, $message), $data);
        }
        return [$status, (string) $body];
    }

    private static function decode(string $body, int $status): array
    {
        $answer = json_decode($body, true);
        if (!is_array($answer)) {
            throw new TransportError('msgo manager: the answer is not a JSON object: ' . substr($body, 0, 200), $status);
        }
        return $answer;
    }

    /** Drops the options left null, so msgo applies its defaults. */
    private static function some(array $fields): array
    {
        return array_filter($fields, static fn ($v) => $v !== null);
    }

    /** A push's param is a JSON object, also when the array is empty. */
    private static function object(array|object $param): object|array
    {
        return $param === [] ? new \stdClass() : $param;
    }

    /** Query values as msgo reads them: booleans as true/false. */
    private static function queryValues(array $input): array
    {
        return array_map(static fn ($v) => is_bool($v) ? ($v ? 'true' : 'false') : $v, $input);
    }
}
