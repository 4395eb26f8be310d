<?php
//set BASE_URL to https://online-billing-service.com/api/v1/ for production
define('BASE_URL', 'https://sandbox.online-billing-service.com/api/v1/');
//replace with the api key provided in the backend
define('API_KEY', '91b4e03e6d4a07c088921a07ab8e844c7508092cf1645b32657d6c4b5829');
$attributes = array(
"client" => array(
"name" => 'My favorite company',
"uid" => '3987985',
"tax_id" => 1,
"registration_id" => "J39/44/1990",
"city" => "Client city name",
"address" => "street name no. 221",
"country_id" => "213"
)
);
$url = BASE_URL . 'clients.xml';
$ch = curl_init();
curl_setopt($ch, CURLOPT_POST, 1);
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_USERPWD, API_KEY . ":x");
curl_setopt($ch, CURLOPT_URL, $url );
curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query($attributes));
curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, false);
$result = curl_exec($ch); // returns the newly created client in xml format
$header = curl_getinfo($ch);
$httpCode = curl_getinfo($ch, CURLINFO_HTTP_CODE);
curl_close($ch);
if ($httpCode == 201) {
// transform the client data from xml to a array
$client_data = json_decode(json_encode(simplexml_load_string($result)), TRUE);
echo 'Client created successfully. Client id: ' . $client_data['id'];
} else {
echo '<pre> Error occured: ' . $httpCode . ':' . $result . '</pre>';
}
?>
