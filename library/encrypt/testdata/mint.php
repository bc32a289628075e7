<?php
// The README's PHP snippet, run by TestPHPMintedToken: a PHP backend minting
// a msgo token with openssl_encrypt.
function msgo_token(array $claims, string $secret): string {
    $claims['ctime'] = $claims['ctime'] ?? time();
    $key   = hash('sha256', $secret, true);
    $nonce = random_bytes(12);
    $tag   = '';
    $json  = json_encode($claims, JSON_UNESCAPED_UNICODE);
    $ct    = openssl_encrypt($json, 'aes-256-gcm', $key, OPENSSL_RAW_DATA, $nonce, $tag, '', 16);
    return rtrim(strtr(base64_encode($nonce . $ct . $tag), '+/', '-_'), '=');
}
echo msgo_token(['id' => 'o6_bmjrPTlm6', 'type' => 'wechatUser', 'code' => 'room1', 'nickname' => '小明'], getenv('MSGO_AUTH_SECRET'));
