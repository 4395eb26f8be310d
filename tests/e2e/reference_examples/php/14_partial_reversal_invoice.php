<?php
//set BASE_URL to https://online-billing-service.com/api/v1/ for production
define('BASE_URL', 'https://sandbox.online-billing-service.com/api/v1/');
//replace with the api key provided in the backend
define('API_KEY', '91b4e03e6d4a07c088921a07ab8e844c7508092cf1645b32657d6c4b5829');
/* adapt there variables to your needs*/
$client_id = 1064116503;
$currency_id = 5;
$invoice_series_id = 1061104825; // series ID, not prefix !!!!!
$document_series_counter = rand(1000,10000);
$url = BASE_URL . 'invoices.xml';
$ch = curl_init();
$data = array("invoice" =>
array(
"client_id" => $client_id,
"currency_id" => $currency_id,
"document_date" => '2014-10-20',
"document_series_id" => $invoice_series_id,
"document_series_counter" => $document_series_counter,
"vat_type" => 1,
"delegate_id" => 525664463,
"display_transport_data" => 1,
"source_document_id" => 1065253810,
"reversed_document_id" => 1065253810,
'input_currency_reversing' => 100,
"document_positions" => array (
1 => array (
'description' => 'Partial reversing of another invoice',
'unit' => 'months',
'unit_count' => '12',
'price' => '-12',
'product_code' => '66XXH663496H',
'vat' => 19
),
)
)
);
curl_setopt($ch, CURLOPT_POST, 1);
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_USERPWD, API_KEY . ":x");
curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query($data));
curl_setopt($ch, CURLOPT_URL, $url );
curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, false);
$result = curl_exec($ch);
$header = curl_getinfo($ch);
$httpCode = curl_getinfo($ch, CURLINFO_HTTP_CODE);
curl_close($ch);
if ($httpCode == 201) {
// transform the invoice data from xml to a array
$invoice_data = json_decode(json_encode(simplexml_load_string($result)), TRUE);
echo 'Invoice created successfully. Invoice id: ' . $invoice_data['id'];
} else {
echo '<pre> Error occured: ' . $httpCode . ':' . $result . '</pre>';
}
?>
