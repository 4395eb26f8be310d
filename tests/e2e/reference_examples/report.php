<?php
// Appended by the e2e tests after an unchanged reference example (php -d auto_append_file=…):
// reports what the example received, read the way the reference's own code reads it
// (simplexml_load_string, then json_encode/json_decode into arrays).
$factura_result = isset($result) && is_string($result) ? $result : null;
$factura_parsed = null;
if ($factura_result !== null && strlen(ltrim($factura_result)) && ltrim($factura_result)[0] === '<') {
    $factura_parsed = json_decode(json_encode(simplexml_load_string($factura_result)), TRUE);
}
echo "\n@@FACTURA@@" . json_encode([
    'http_code' => isset($httpCode) ? $httpCode : null,
    'parsed' => $factura_parsed,
    'raw' => $factura_result,
]);
