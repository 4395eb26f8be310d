<?php
//set BASE_URL to https://online-billing-service.com/api/ for production
define('BASE_URL', 'https://sandbox.online-billing-service.com/api/');
//replace with the api key provided in the backend
define('API_KEY', '91b4e03e6d4a07c088921a07ab8e844c7508092cf1645b32657d6c4b5829');
/* adapt there variables to your needs*/
$client_id = 1064116503;
$currency_id = 5;
$invoice_series_id = 1061104825; // Series ID - NOT PREFIX !!!!!
$document_series_counter = rand(1000,10000);
$url = BASE_URL . 'invoices.xml';
$ch = curl_init();
$postdata = '<?xml version="1.0" encoding="UTF-8"?>
<invoice>
<client_id>' . $client_id . '</client_id>
<currency_id>' . $currency_id . '</currency_id>
<document_date>2014-05-20</document_date>
<document_series_id>' . $invoice_series_id . '</document_series_id>
<document_series_counter>' . $document_series_counter . '</document_series_counter>
<vat_type>1</vat_type>
<delegate_id>525664463</delegate_id>
<display_transport_data>1</display_transport_data>
<document_positions>
<document_position>
<description>BASIC SUBSCRIPTION</description>
<unit>months</unit>
<unit_count>12</unit_count>
<price>12</price>
<product_code>66XXH663496H</product_code>
<vat>24</vat>
</document_position>
<document_position>
<type>DiscountPosition</type>
<description>Discount for advanced payment</description>
<discount_rate>10</discount_rate>
</document_position>
</document_positions>
</invoice>';
curl_setopt($ch, CURLOPT_POST, 1);
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_USERPWD, API_KEY . ":x");
curl_setopt($ch, CURLOPT_POSTFIELDS, $postdata);
curl_setopt($ch, CURLOPT_URL, $url );
curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, false);
curl_setopt($ch, CURLOPT_HTTPHEADER, array('Content-Type: application/xml'));
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
